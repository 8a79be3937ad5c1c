/** Index management: create, delete, exists, get, mappings, refresh. */
import type { AnalysisSettings } from '../engine/analysis';
import { parseAnalysis } from '../engine/analysis';
import type { AliasTarget, SearchEngine } from '../engine/engine';
import { parseInterval } from '../engine/engine';
import { checkNormalizers, mergeMappings, parseMappings, validateDocument } from '../engine/mappings';
import type { SearchIndex } from '../engine/search-index';
import { illegalArgument, indexNotFound } from '../http/errors';
import type { RequestContext, Route } from '../http/router';
import { isPlainObject, SEARCH_SHARDS } from './common';

const SUPPORTED_SETTINGS = ['index.number_of_shards', 'index.number_of_replicas', 'index.refresh_interval'];

const ANALYSIS_PREFIX = 'index.analysis.';

/**
 * Flattens `{index: {number_of_shards: 1}}`, `{number_of_shards: 1}` and `{"index.number_of_shards": 1}`;
 * the `analysis` keys (in any of those forms) become the structured analysis settings.
 */
export function parseSettings(raw: unknown): {
  settings: Record<string, string>;
  analysis: AnalysisSettings | undefined;
} {
  if (raw === undefined) return { settings: {}, analysis: undefined };
  if (!isPlainObject(raw)) throw illegalArgument('[settings] must be an object');
  const flat: Record<string, string> = {};
  const analysis: Array<[string, unknown]> = [];
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const full = path.startsWith('index.') ? path : `index.${path}`;
      if (isPlainObject(value) && Object.keys(value).length > 0) walk(value, path);
      // Analysis values keep their JSON type (filter lists are arrays).
      else if (full.startsWith(ANALYSIS_PREFIX)) analysis.push([full.slice(ANALYSIS_PREFIX.length), value]);
      else flat[full] = String(value);
    }
  };
  walk(raw, '');
  for (const key of Object.keys(flat)) {
    if (!SUPPORTED_SETTINGS.includes(key))
      throw illegalArgument(
        `unknown setting [${key}] (this server supports: ${SUPPORTED_SETTINGS.join(', ')})`,
      );
  }
  const interval = flat['index.refresh_interval'];
  if (interval !== undefined) parseInterval(interval);
  return { settings: flat, analysis: parseAnalysis(analysis) };
}

function parseAliases(raw: unknown): Record<string, AliasTarget> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) throw illegalArgument('[aliases] must be an object');
  const out: Record<string, AliasTarget> = {};
  for (const [alias, options] of Object.entries(raw)) {
    if (!isPlainObject(options)) throw illegalArgument(`alias [${alias}] options must be an object`);
    for (const key of Object.keys(options))
      if (key !== 'is_write_index')
        throw illegalArgument(`unsupported alias option [${key}] on alias [${alias}]`);
    out[alias] =
      typeof options.is_write_index === 'boolean' ? { is_write_index: options.is_write_index } : {};
  }
  return out;
}

function settingsView(index: SearchIndex): Record<string, unknown> {
  const s = index.meta.settings;
  return {
    index: {
      ...(s['index.refresh_interval'] === undefined ? {} : { refresh_interval: s['index.refresh_interval'] }),
      ...(index.meta.analysis === undefined ? {} : { analysis: index.meta.analysis }),
      number_of_shards: s['index.number_of_shards'] ?? '1',
      number_of_replicas: s['index.number_of_replicas'] ?? '1',
      provided_name: index.name,
      creation_date: String(index.meta.creationDate),
      uuid: index.meta.uuid,
      version: { created: '9000000' },
    },
  };
}

export function indexRoutes(engine: SearchEngine): Route[] {
  const resolve = (ctx: RequestContext): SearchIndex[] => {
    const expression = ctx.params.index ?? '_all';
    const indices = engine.resolveMany(expression, {
      ignoreUnavailable: ctx.query.get('ignore_unavailable') === 'true',
    });
    return indices;
  };
  const refresh = (ctx: RequestContext) => {
    const indices = resolve(ctx);
    for (const index of indices) index.refresh();
    return {
      status: 200,
      body: { _shards: { total: indices.length, successful: indices.length, failed: 0 } },
    };
  };
  const exposure = ['ignore_unavailable', 'allow_no_indices', 'expand_wildcards'];
  return [
    {
      methods: ['PUT'],
      pattern: '/{index}',
      endpoint: 'indices.create',
      queryParams: ['wait_for_active_shards'],
      handler: async (ctx) => {
        const name = ctx.params.index ?? '';
        const body = ctx.json() ?? {};
        if (!isPlainObject(body)) throw illegalArgument('index creation body must be an object');
        for (const key of Object.keys(body))
          if (!['settings', 'mappings', 'aliases'].includes(key))
            throw illegalArgument(`unknown key [${key}] for create index`);
        const { settings, analysis } = parseSettings(body.settings);
        const mappings = parseMappings(body.mappings);
        checkNormalizers(mappings, analysis);
        await engine.createIndex(name, mappings, settings, parseAliases(body.aliases), analysis);
        return { status: 200, body: { acknowledged: true, shards_acknowledged: true, index: name } };
      },
    },
    {
      methods: ['DELETE'],
      pattern: '/{index}',
      endpoint: 'indices.delete',
      queryParams: exposure,
      handler: async (ctx) => {
        await engine.deleteIndices(ctx.params.index ?? '');
        return { status: 200, body: { acknowledged: true } };
      },
    },
    {
      methods: ['HEAD'],
      pattern: '/{index}',
      endpoint: 'indices.exists',
      queryParams: [...exposure, 'local', 'include_defaults', 'flat_settings'],
      handler: (ctx) => {
        try {
          return { status: resolve(ctx).length > 0 ? 200 : 404 };
        } catch {
          return { status: 404 };
        }
      },
    },
    {
      methods: ['GET'],
      pattern: '/{index}',
      endpoint: 'indices.get',
      queryParams: [...exposure, 'local', 'include_defaults', 'flat_settings', 'features'],
      handler: (ctx) => {
        const body: Record<string, unknown> = {};
        for (const index of resolve(ctx)) {
          body[index.name] = {
            aliases: engine.aliasesOf(index.name),
            mappings: index.meta.mappings,
            settings: settingsView(index),
          };
        }
        return { status: 200, body };
      },
    },
    {
      methods: ['GET'],
      pattern: '/{index}/_mapping',
      endpoint: 'indices.get_mapping',
      queryParams: [...exposure, 'local'],
      handler: (ctx) => {
        const body: Record<string, unknown> = {};
        for (const index of resolve(ctx)) body[index.name] = { mappings: index.meta.mappings };
        return { status: 200, body };
      },
    },
    {
      methods: ['GET'],
      pattern: '/_mapping',
      endpoint: 'indices.get_mapping',
      queryParams: [...exposure, 'local'],
      handler: (ctx) => {
        const body: Record<string, unknown> = {};
        for (const index of resolve(ctx)) body[index.name] = { mappings: index.meta.mappings };
        return { status: 200, body };
      },
    },
    {
      methods: ['PUT', 'POST'],
      pattern: '/{index}/_mapping',
      endpoint: 'indices.put_mapping',
      queryParams: [...exposure, 'write_index_only'],
      handler: async (ctx) => {
        const indices = resolve(ctx);
        if (indices.length === 0) throw indexNotFound(ctx.params.index ?? '');
        const update = parseMappings(ctx.json());
        // Existing documents become searchable by the new fields, so they must fit them.
        for (const index of indices) {
          checkNormalizers(update, index.meta.analysis);
          const merged = mergeMappings(index.meta.mappings, update);
          for (const [id, doc] of index.docs) validateDocument(merged, doc.source, id, index.name);
        }
        await engine.updateMappings(indices, (current) => mergeMappings(current, update));
        return { status: 200, body: { acknowledged: true } };
      },
    },
    {
      methods: ['POST', 'GET'],
      pattern: '/_refresh',
      endpoint: 'indices.refresh',
      queryParams: exposure,
      handler: refresh,
    },
    {
      methods: ['POST', 'GET'],
      pattern: '/{index}/_refresh',
      endpoint: 'indices.refresh',
      queryParams: exposure,
      handler: refresh,
    },
    {
      methods: ['GET'],
      pattern: '/_cat/indices',
      endpoint: 'cat.indices',
      queryParams: ['h', 'v', 'bytes', 'health', 'pri', 's', 'expand_wildcards', 'local'],
      handler: (ctx) => catIndices(engine.listIndices(), ctx),
    },
    {
      methods: ['GET'],
      pattern: '/_cat/indices/{index}',
      endpoint: 'cat.indices',
      queryParams: ['h', 'v', 'bytes', 'health', 'pri', 's', 'expand_wildcards', 'local'],
      handler: (ctx) => catIndices(resolve(ctx), ctx),
    },
    {
      methods: ['GET'],
      pattern: '/{index}/_stats',
      endpoint: 'indices.stats',
      queryParams: ['level'],
      handler: (ctx) => {
        const indices: Record<string, unknown> = {};
        for (const index of resolve(ctx)) {
          const docs = { count: index.searcher.size, deleted: 0 };
          indices[index.name] = { uuid: index.meta.uuid, primaries: { docs }, total: { docs } };
        }
        return { status: 200, body: { _shards: SEARCH_SHARDS, indices } };
      },
    },
  ];
}

/** `_cat/indices` in JSON (`format=json`), which is what scripts use. */
function catIndices(indices: SearchIndex[], ctx: RequestContext) {
  if (ctx.query.get('format') !== 'json')
    throw illegalArgument('_cat/indices is only supported with format=json');
  return {
    status: 200,
    body: indices.map((index) => ({
      health: 'green',
      status: 'open',
      index: index.name,
      uuid: index.meta.uuid,
      pri: '1',
      rep: '0',
      'docs.count': String(index.searcher.size),
      'docs.deleted': '0',
    })),
  };
}
