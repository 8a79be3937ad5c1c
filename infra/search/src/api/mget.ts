/**
 * Multi-get (`_mget`): many documents by id in one request, real-time like `GET _doc` (it reads the live
 * documents, not the last refreshed searcher). Per-document failures (an unknown index, an alias without a
 * single target) are reported in place, like Elasticsearch; the answer keeps the order of the request.
 */
import type { SearchEngine } from '../engine/engine';
import type { SearchIndex } from '../engine/search-index';
import { PRIMARY_TERM } from '../engine/search-index';
import { EsError, illegalArgument, parsingError } from '../http/errors';
import type { RequestContext, Route } from '../http/router';
import { filterSource, isPlainObject, type SourceFilter, sourceFilterFrom } from './common';

const MGET_PARAMS = [
  'realtime',
  'refresh',
  'routing',
  'preference',
  '_source',
  '_source_includes',
  '_source_excludes',
  'stored_fields',
];

const DOC_KEYS = new Set(['_index', '_id', '_source', 'routing', '_routing']);
const NO_QUERY = new URLSearchParams();

interface MgetItem {
  index: string;
  id: string;
  /** Per-document `_source` (overrides the querystring); undefined: the querystring's filter. */
  filter: SourceFilter | undefined;
}

function validation(messages: string[]): EsError {
  const listed = messages.map((m, i) => `${i + 1}: ${m};`).join(' ');
  return new EsError(400, 'action_request_validation_exception', `Validation Failed: ${listed}`);
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Parses `{docs: [...]}` or `{ids: [...]}` into items; missing ids/indices are one validation error, like ES. */
export function parseMgetBody(body: unknown, defaultIndex: string | undefined): MgetItem[] {
  if (body === undefined) throw validation(['no documents to get']);
  if (!isPlainObject(body)) throw parsingError('request body must be an object with [docs] or [ids]');
  const items: MgetItem[] = [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'docs') {
      if (!Array.isArray(value)) throw parsingError('[docs] must be an array');
      for (const doc of value) {
        if (!isPlainObject(doc)) throw parsingError('each entry of [docs] must be an object');
        for (const field of Object.keys(doc)) {
          if (!DOC_KEYS.has(field)) {
            if (field === 'stored_fields' || field === 'fields')
              throw illegalArgument('stored_fields is not supported by this server');
            throw parsingError(`unknown key [${field}] in a multi get doc`);
          }
        }
        const rawIndex = doc._index;
        if (rawIndex !== undefined && typeof rawIndex !== 'string')
          throw parsingError('[_index] must be a string');
        const index = rawIndex ?? defaultIndex;
        const id = doc._id === undefined || doc._id === null ? undefined : idOf(doc._id);
        if (doc._id !== undefined && doc._id !== null && id === undefined)
          throw parsingError('[_id] must be a string');
        const n = items.length;
        if (index === undefined) problems.push(`index is missing for doc ${n}`);
        if (id === undefined) problems.push(`id is missing for doc ${n}`);
        items.push({
          index: index ?? '',
          id: id ?? '',
          filter: doc._source === undefined ? undefined : sourceFilterFrom(doc._source, NO_QUERY),
        });
      }
    } else if (key === 'ids') {
      const ids = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(ids)) throw parsingError('[ids] must be an array of ids');
      for (const raw of ids) {
        const id = idOf(raw);
        if (id === undefined) throw parsingError('[ids] must be an array of ids');
        if (defaultIndex === undefined) problems.push(`index is missing for doc ${items.length}`);
        items.push({ index: defaultIndex ?? '', id, filter: undefined });
      }
    } else {
      throw parsingError(`unknown key [${key}] in a multi get request; expected [docs] or [ids]`);
    }
  }
  if (items.length === 0) throw validation(['no documents to get']);
  if (problems.length > 0) throw validation(problems);
  return items;
}

export function mgetRoutes(engine: SearchEngine): Route[] {
  const handler = (ctx: RequestContext) => {
    const realtime = ctx.query.get('realtime');
    if (realtime !== null && realtime !== 'true' && realtime !== '') {
      if (realtime === 'false') throw illegalArgument('realtime=false is not supported by this server');
      throw illegalArgument(`Failed to parse value [${realtime}] as only [true] or [false] are allowed.`);
    }
    if (ctx.query.has('stored_fields'))
      throw illegalArgument('stored_fields is not supported by this server');
    const refreshValue = ctx.query.get('refresh');
    if (refreshValue !== null && refreshValue !== '' && refreshValue !== 'true' && refreshValue !== 'false')
      throw illegalArgument(`Failed to parse value [${refreshValue}] as only [true] or [false] are allowed.`);
    const refresh = refreshValue !== null && refreshValue !== 'false';

    const items = parseMgetBody(ctx.json(), ctx.params.index);
    const queryFilter = sourceFilterFrom(undefined, ctx.query);
    // Each named target is resolved once (an index or an alias with one target); failures go in place.
    const targets = new Map<string, SearchIndex | EsError>();
    const resolve = (name: string): SearchIndex | EsError => {
      let target = targets.get(name);
      if (target === undefined) {
        try {
          target = engine.resolveSingle(name);
        } catch (error) {
          if (!(error instanceof EsError)) throw error;
          target = error;
        }
        targets.set(name, target);
        if (refresh && !(target instanceof EsError)) target.refresh();
      }
      return target;
    };

    const docs = items.map((item) => {
      const target = resolve(item.index);
      if (target instanceof EsError) return { _index: item.index, _id: item.id, error: target.toCause() };
      const doc = target.docs.get(item.id);
      if (doc === undefined) return { _index: target.name, _id: item.id, found: false };
      const source = filterSource(doc.source, item.filter ?? queryFilter);
      return {
        _index: target.name,
        _id: item.id,
        _version: doc.version,
        _seq_no: doc.seqNo,
        _primary_term: PRIMARY_TERM,
        found: true,
        ...(source === undefined ? {} : { _source: source }),
      };
    });
    return { status: 200, body: { docs } };
  };
  return [
    { methods: ['GET', 'POST'], pattern: '/_mget', endpoint: 'mget', queryParams: MGET_PARAMS, handler },
    {
      methods: ['GET', 'POST'],
      pattern: '/{index}/_mget',
      endpoint: 'mget',
      queryParams: MGET_PARAMS,
      handler,
    },
  ];
}
