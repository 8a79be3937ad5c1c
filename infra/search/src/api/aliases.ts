/** Aliases: atomic `_aliases` actions, get/exists/put/delete single aliases. */
import type { AliasAction, AliasTarget, SearchEngine } from '../engine/engine';
import { EsError, illegalArgument } from '../http/errors';
import type { RequestContext, Route } from '../http/router';
import { isPlainObject } from './common';

function names(spec: Record<string, unknown>, one: string, many: string, action: string): string[] {
  const single = spec[one];
  const multiple = spec[many];
  if (typeof single === 'string') return [single];
  if (Array.isArray(multiple) && multiple.every((v) => typeof v === 'string') && multiple.length > 0)
    return multiple as string[];
  if (typeof multiple === 'string') return [multiple];
  throw illegalArgument(`Validation Failed: 1: [${one}] or [${many}] is required for [${action}];`);
}

/** Parses the `actions` array of POST /_aliases into engine actions (one per index × alias pair). */
export function parseAliasActions(body: unknown): AliasAction[] {
  if (!isPlainObject(body) || !Array.isArray(body.actions)) throw illegalArgument('[actions] is required');
  const out: AliasAction[] = [];
  for (const raw of body.actions) {
    if (!isPlainObject(raw) || Object.keys(raw).length !== 1)
      throw illegalArgument('each alias action must be an object with one key');
    const [type, spec] = Object.entries(raw)[0] as [string, unknown];
    if (!isPlainObject(spec)) throw illegalArgument(`[${type}] must be an object`);
    const known = ['index', 'indices', 'alias', 'aliases', 'is_write_index', 'must_exist'];
    for (const key of Object.keys(spec)) {
      if (!known.includes(key))
        throw illegalArgument(
          `unsupported alias action parameter [${key}] (filters and routing are not supported)`,
        );
    }
    const indices = names(spec, 'index', 'indices', type);
    if (type === 'remove_index') {
      for (const index of indices) out.push({ removeIndex: { index } });
      continue;
    }
    const aliases = names(spec, 'alias', 'aliases', type);
    for (const index of indices) {
      for (const alias of aliases) {
        if (type === 'add') {
          out.push({
            add: {
              index,
              alias,
              ...(typeof spec.is_write_index === 'boolean' ? { isWriteIndex: spec.is_write_index } : {}),
            },
          });
        } else if (type === 'remove') {
          out.push({ remove: { index, alias, mustExist: spec.must_exist !== false } });
        } else {
          throw illegalArgument(`unknown alias action [${type}]`);
        }
      }
    }
  }
  return out;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

export function aliasRoutes(engine: SearchEngine): Route[] {
  /** `{index: {aliases: {alias: options}}}` for the aliases matching `name` on the indices matching `index`. */
  const view = (
    ctx: RequestContext,
  ): { body: Record<string, { aliases: Record<string, AliasTarget> }>; missing: string[] } => {
    const indices =
      ctx.params.index === undefined ? engine.listIndices() : engine.resolveMany(ctx.params.index);
    const patterns =
      ctx.params.name === undefined || ctx.params.name === '_all' ? null : ctx.params.name.split(',');
    const body: Record<string, { aliases: Record<string, AliasTarget> }> = {};
    const seen = new Set<string>();
    for (const index of indices) {
      const aliases: Record<string, AliasTarget> = {};
      for (const [alias, options] of Object.entries(engine.aliasesOf(index.name))) {
        if (patterns === null || patterns.some((p) => wildcard(p).test(alias))) {
          aliases[alias] = options;
          seen.add(alias);
        }
      }
      // Without a name filter every index is listed (with {} aliases), as in ES.
      if (patterns === null || Object.keys(aliases).length > 0) body[index.name] = { aliases };
    }
    const missing = (patterns ?? []).filter((p) => !p.includes('*') && !seen.has(p));
    return { body, missing };
  };
  const get = (ctx: RequestContext) => {
    const { body, missing } = view(ctx);
    if (missing.length > 0) {
      // ES's own (unusual) shape for this case: error is a string.
      return { status: 404, body: { ...body, error: `alias [${missing.join(',')}] missing`, status: 404 } };
    }
    return { status: 200, body };
  };
  const exists = (ctx: RequestContext) => {
    try {
      const { body, missing } = view(ctx);
      return { status: missing.length === 0 && Object.keys(body).length > 0 ? 200 : 404 };
    } catch {
      return { status: 404 };
    }
  };
  const put = async (ctx: RequestContext) => {
    const options = ctx.json();
    let isWriteIndex: boolean | undefined;
    if (options !== undefined) {
      if (!isPlainObject(options)) throw illegalArgument('alias body must be an object');
      for (const key of Object.keys(options))
        if (key !== 'is_write_index') throw illegalArgument(`unsupported alias option [${key}]`);
      if (typeof options.is_write_index === 'boolean') isWriteIndex = options.is_write_index;
    }
    await engine.updateAliases([
      {
        add: {
          index: ctx.params.index ?? '',
          alias: ctx.params.name ?? '',
          ...(isWriteIndex === undefined ? {} : { isWriteIndex }),
        },
      },
    ]);
    return { status: 200, body: { acknowledged: true } };
  };
  const remove = async (ctx: RequestContext) => {
    const indices = engine.resolveMany(ctx.params.index ?? '');
    const alias = ctx.params.name ?? '';
    const actions: AliasAction[] = indices.map((i) => ({
      remove: { index: i.name, alias, mustExist: true },
    }));
    if (actions.length === 0)
      throw new EsError(404, 'aliases_not_found_exception', `aliases [${alias}] missing`);
    await engine.updateAliases(actions);
    return { status: 200, body: { acknowledged: true } };
  };
  const p = ['ignore_unavailable', 'allow_no_indices', 'expand_wildcards', 'local'];
  return [
    {
      methods: ['POST'],
      pattern: '/_aliases',
      endpoint: 'indices.update_aliases',
      queryParams: [],
      handler: async (ctx) => {
        await engine.updateAliases(parseAliasActions(ctx.json()));
        return { status: 200, body: { acknowledged: true, errors: false } };
      },
    },
    { methods: ['GET'], pattern: '/_alias', endpoint: 'indices.get_alias', queryParams: p, handler: get },
    {
      methods: ['GET'],
      pattern: '/_alias/{name}',
      endpoint: 'indices.get_alias',
      queryParams: p,
      handler: get,
    },
    {
      methods: ['HEAD'],
      pattern: '/_alias/{name}',
      endpoint: 'indices.exists_alias',
      queryParams: p,
      handler: exists,
    },
    {
      methods: ['GET'],
      pattern: '/{index}/_alias',
      endpoint: 'indices.get_alias',
      queryParams: p,
      handler: get,
    },
    {
      methods: ['GET'],
      pattern: '/{index}/_alias/{name}',
      endpoint: 'indices.get_alias',
      queryParams: p,
      handler: get,
    },
    {
      methods: ['HEAD'],
      pattern: '/{index}/_alias/{name}',
      endpoint: 'indices.exists_alias',
      queryParams: p,
      handler: exists,
    },
    {
      methods: ['PUT', 'POST'],
      pattern: '/{index}/_alias/{name}',
      endpoint: 'indices.put_alias',
      queryParams: [],
      handler: put,
    },
    {
      methods: ['PUT', 'POST'],
      pattern: '/{index}/_aliases/{name}',
      endpoint: 'indices.put_alias',
      queryParams: [],
      handler: put,
    },
    {
      methods: ['DELETE'],
      pattern: '/{index}/_alias/{name}',
      endpoint: 'indices.delete_alias',
      queryParams: [],
      handler: remove,
    },
    {
      methods: ['DELETE'],
      pattern: '/{index}/_aliases/{name}',
      endpoint: 'indices.delete_alias',
      queryParams: [],
      handler: remove,
    },
  ];
}
