/** `_bulk`: NDJSON index/create/delete/update actions with per-item results, in request order. */
import type { SearchEngine } from '../engine/engine';
import type { SearchIndex, WriteRequest } from '../engine/search-index';
import { PRIMARY_TERM } from '../engine/search-index';
import { EsError, illegalArgument, parsingError } from '../http/errors';
import type { RequestContext, Route } from '../http/router';
import { toEsError } from '../http/router';
import type { VersionOptions } from './common';
import {
  applyRefresh,
  checkVersionOptions,
  isPlainObject,
  refreshPolicy,
  SHARDS_OK,
  versionType,
} from './common';
import { generateId, updateToWrite } from './documents';

type Action = 'index' | 'create' | 'delete' | 'update';
const ACTIONS: readonly Action[] = ['index', 'create', 'delete', 'update'];
const META_KEYS = new Set([
  '_index',
  '_id',
  'version',
  'version_type',
  'if_seq_no',
  'if_primary_term',
  'routing',
  'retry_on_conflict',
  'require_alias',
  'dynamic_templates',
  'pipeline',
]);

interface Operation {
  action: Action;
  meta: Record<string, unknown>;
  body?: unknown;
}

function parseLines(raw: Buffer): Operation[] {
  const lines = raw.toString('utf8').split('\n');
  const ops: Operation[] = [];
  let i = 0;
  const parse = (line: string, number: number): unknown => {
    try {
      return JSON.parse(line) as unknown;
    } catch (error) {
      throw parsingError(`Malformed line [${number}]: ${(error as Error).message}`);
    }
  };
  while (i < lines.length) {
    const line = (lines[i] ?? '').trim();
    const lineNumber = i + 1;
    i++;
    if (line === '') continue;
    const header = parse(line, lineNumber);
    if (!isPlainObject(header) || Object.keys(header).length !== 1)
      throw illegalArgument(
        `Malformed action/metadata line [${lineNumber}], expected START_OBJECT with a single action`,
      );
    const [name, meta] = Object.entries(header)[0] as [string, unknown];
    if (!(ACTIONS as readonly string[]).includes(name))
      throw illegalArgument(
        `Malformed action/metadata line [${lineNumber}], expected field [create], [delete], [index] or [update] but found [${name}]`,
      );
    if (!isPlainObject(meta))
      throw illegalArgument(`Malformed action/metadata line [${lineNumber}], expected an object`);
    for (const key of Object.keys(meta)) {
      if (!META_KEYS.has(key))
        throw illegalArgument(`Action/metadata line [${lineNumber}] contains an unknown parameter [${key}]`);
    }
    if (meta.pipeline !== undefined)
      throw illegalArgument('ingest pipelines are not supported by this server');
    const op: Operation = { action: name as Action, meta };
    if (name !== 'delete') {
      while (i < lines.length && (lines[i] ?? '').trim() === '') i++;
      if (i >= lines.length)
        throw illegalArgument(
          `The bulk request must be terminated by a newline [\\n]; missing source for action line [${lineNumber}]`,
        );
      op.body = parse((lines[i] ?? '').trim(), i + 1);
      i++;
    }
    ops.push(op);
  }
  if (ops.length === 0)
    throw new EsError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
  return ops;
}

function metaVersionOptions(meta: Record<string, unknown>): VersionOptions {
  const options: VersionOptions = {};
  const int = (key: string): number | undefined => {
    const value = meta[key];
    if (value === undefined || value === null) return undefined;
    const n = typeof value === 'string' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw illegalArgument(`[${key}] must be an integer`);
    return n;
  };
  const version = int('version');
  if (version !== undefined) options.version = version;
  const type = versionType(meta.version_type);
  if (type !== undefined) options.versionType = type;
  const ifSeqNo = int('if_seq_no');
  if (ifSeqNo !== undefined) options.ifSeqNo = ifSeqNo;
  const ifPrimaryTerm = int('if_primary_term');
  if (ifPrimaryTerm !== undefined) options.ifPrimaryTerm = ifPrimaryTerm;
  return options;
}

export function bulkRoutes(engine: SearchEngine): Route[] {
  const handler = async (ctx: RequestContext) => {
    const started = Date.now();
    const policy = refreshPolicy(ctx.query);
    if (ctx.query.has('pipeline')) throw illegalArgument('ingest pipelines are not supported by this server');
    const operations = parseLines(ctx.rawBody);
    const defaultIndex = ctx.params.index;
    const touched = new Set<SearchIndex>();
    const pending: Promise<Record<string, unknown>>[] = [];

    for (const op of operations) {
      const indexName = typeof op.meta._index === 'string' ? op.meta._index : defaultIndex;
      const rawId = op.meta._id;
      let id = typeof rawId === 'string' ? rawId : typeof rawId === 'number' ? String(rawId) : undefined;
      const item = (status: number, extra: Record<string, unknown>): Record<string, unknown> => ({
        [op.action]: { _index: indexName, _id: id ?? null, status, ...extra },
      });
      try {
        if (indexName === undefined)
          throw new EsError(
            400,
            'action_request_validation_exception',
            'Validation Failed: 1: index is missing;',
          );
        const index = engine.resolveSingle(indexName);
        if (id === undefined) {
          if (op.action === 'index' || op.action === 'create') id = generateId();
          else throw illegalArgument(`${op.action} requires an id`);
        }
        const options = checkVersionOptions(metaVersionOptions(op.meta), op.action);
        let request: WriteRequest | 'noop';
        if (op.action === 'update') {
          request = updateToWrite(index, id, op.body, options);
        } else if (op.action === 'delete') {
          request = { kind: 'delete', id, ...options };
        } else {
          if (!isPlainObject(op.body)) throw illegalArgument('document source must be an object');
          request = { kind: op.action, id, source: op.body, ...options };
        }
        const docId = id;
        if (request === 'noop') {
          const doc = index.docs.get(docId);
          pending.push(
            Promise.resolve({
              update: {
                _index: index.name,
                _id: docId,
                _version: doc?.version,
                result: 'noop',
                _shards: SHARDS_OK,
                _seq_no: doc?.seqNo,
                _primary_term: PRIMARY_TERM,
                status: 200,
              },
            }),
          );
          continue;
        }
        const result = index.write(request);
        touched.add(index);
        const body = {
          _index: index.name,
          _id: docId,
          _version: result.version,
          result: result.result,
          _shards: SHARDS_OK,
          _seq_no: result.seqNo,
          _primary_term: PRIMARY_TERM,
        };
        const status = result.result === 'created' ? 201 : result.result === 'not_found' ? 404 : 200;
        pending.push(
          (result.durable ?? Promise.resolve()).then(
            () => ({ [op.action]: { ...body, status } }),
            (error: unknown) => {
              const err = toEsError(error);
              return item(err.status, { error: err.toCause() });
            },
          ),
        );
      } catch (error) {
        const err = toEsError(error);
        pending.push(Promise.resolve(item(err.status, { error: err.toCause() })));
      }
    }
    const items = await Promise.all(pending);
    await applyRefresh(touched, policy);
    const errors = items.some((i) => {
      const inner = Object.values(i)[0] as { error?: unknown };
      return inner.error !== undefined;
    });
    return { status: 200, body: { errors, took: Date.now() - started, items } };
  };
  const queryParams = [
    'refresh',
    'routing',
    'wait_for_active_shards',
    'require_alias',
    'require_data_stream',
    '_source',
    '_source_includes',
    '_source_excludes',
    'pipeline',
    'list_executed_pipelines',
    'include_source_on_error',
  ];
  return [
    { methods: ['POST', 'PUT'], pattern: '/_bulk', endpoint: 'bulk', queryParams, handler },
    { methods: ['POST', 'PUT'], pattern: '/{index}/_bulk', endpoint: 'bulk', queryParams, handler },
  ];
}
