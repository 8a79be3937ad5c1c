/** Single-document endpoints: index, create, get, delete, update. */
import { randomBytes } from 'node:crypto';
import type { SearchEngine } from '../engine/engine';
import type { SearchIndex, WriteRequest, WriteResult } from '../engine/search-index';
import { PRIMARY_TERM } from '../engine/search-index';
import { EsError, illegalArgument } from '../http/errors';
import type { RequestContext, Route } from '../http/router';
import {
  applyRefresh,
  checkVersionOptions,
  filterSource,
  isPlainObject,
  refreshPolicy,
  sourceFilterFrom,
  sourceObject,
  versionOptionsFromQuery,
  writeResponse,
} from './common';

const WRITE_PARAMS = [
  'refresh',
  'version',
  'version_type',
  'if_seq_no',
  'if_primary_term',
  'routing',
  'wait_for_active_shards',
  'require_alias',
];
const GET_PARAMS = [
  'realtime',
  'refresh',
  'routing',
  'preference',
  '_source',
  '_source_includes',
  '_source_excludes',
  'stored_fields',
  'version',
  'version_type',
];

/** Same shape as ES auto-generated ids (20 url-safe base64 characters). */
export function generateId(): string {
  return randomBytes(15).toString('base64url');
}

/** Writes one document and waits until it is durable (and refreshed if asked). */
async function writeOne(
  index: SearchIndex,
  request: WriteRequest,
  ctx: RequestContext,
): Promise<{ result: WriteResult; forced: boolean }> {
  const policy = refreshPolicy(ctx.query);
  const result = index.write(request);
  if (result.durable !== null) await result.durable;
  const forced = await applyRefresh([index], policy);
  return { result, forced };
}

export function documentRoutes(engine: SearchEngine): Route[] {
  const index = async (ctx: RequestContext, kind: 'index' | 'create', id: string, status?: number) => {
    const target = engine.resolveSingle(ctx.params.index ?? '');
    const opType = ctx.query.get('op_type');
    if (opType !== null && opType !== 'index' && opType !== 'create')
      throw illegalArgument(`opType must be 'create' or 'index', found: [${opType}]`);
    const effective = opType === 'create' ? 'create' : kind;
    const options = checkVersionOptions(versionOptionsFromQuery(ctx.query), effective);
    const source = sourceObject(ctx);
    const { result, forced } = await writeOne(target, { kind: effective, id, source, ...options }, ctx);
    return {
      status: status ?? (result.result === 'created' ? 201 : 200),
      body: writeResponse(target, id, result, forced),
    };
  };

  return [
    {
      methods: ['PUT', 'POST'],
      pattern: '/{index}/_doc/{id}',
      endpoint: 'index',
      queryParams: [...WRITE_PARAMS, 'op_type'],
      handler: (ctx) => index(ctx, 'index', ctx.params.id ?? ''),
    },
    {
      methods: ['POST'],
      pattern: '/{index}/_doc',
      endpoint: 'index',
      queryParams: [...WRITE_PARAMS, 'op_type'],
      handler: (ctx) => index(ctx, 'index', generateId()),
    },
    {
      methods: ['PUT', 'POST'],
      pattern: '/{index}/_create/{id}',
      endpoint: 'create',
      queryParams: WRITE_PARAMS,
      handler: (ctx) => index(ctx, 'create', ctx.params.id ?? ''),
    },
    {
      methods: ['GET', 'HEAD'],
      pattern: '/{index}/_doc/{id}',
      endpoint: 'get',
      queryParams: GET_PARAMS,
      handler: (ctx) => {
        const target = engine.resolveSingle(ctx.params.index ?? '');
        const id = ctx.params.id ?? '';
        if (ctx.query.get('realtime') === 'false')
          throw illegalArgument('realtime=false is not supported by this server');
        if (ctx.query.has('refresh') && ctx.query.get('refresh') !== 'false') target.refresh();
        if (ctx.query.has('stored_fields'))
          throw illegalArgument('stored_fields is not supported by this server');
        const doc = target.docs.get(id);
        if (doc === undefined) return { status: 404, body: { _index: target.name, _id: id, found: false } };
        const source = filterSource(doc.source, sourceFilterFrom(undefined, ctx.query));
        return {
          status: 200,
          body: {
            _index: target.name,
            _id: id,
            _version: doc.version,
            _seq_no: doc.seqNo,
            _primary_term: PRIMARY_TERM,
            found: true,
            ...(source === undefined ? {} : { _source: source }),
          },
        };
      },
    },
    {
      methods: ['GET', 'HEAD'],
      pattern: '/{index}/_source/{id}',
      endpoint: 'get_source',
      queryParams: GET_PARAMS,
      handler: (ctx) => {
        const target = engine.resolveSingle(ctx.params.index ?? '');
        const id = ctx.params.id ?? '';
        const doc = target.docs.get(id);
        if (doc === undefined)
          throw new EsError(
            404,
            'resource_not_found_exception',
            `Document not found [${target.name}]/[${id}]`,
          );
        return { status: 200, body: filterSource(doc.source, sourceFilterFrom(undefined, ctx.query)) ?? {} };
      },
    },
    {
      methods: ['DELETE'],
      pattern: '/{index}/_doc/{id}',
      endpoint: 'delete',
      queryParams: WRITE_PARAMS,
      handler: async (ctx) => {
        const target = engine.resolveSingle(ctx.params.index ?? '');
        const id = ctx.params.id ?? '';
        const options = checkVersionOptions(versionOptionsFromQuery(ctx.query), 'delete');
        const { result, forced } = await writeOne(target, { kind: 'delete', id, ...options }, ctx);
        return {
          status: result.result === 'not_found' ? 404 : 200,
          body: writeResponse(target, id, result, forced),
        };
      },
    },
    {
      methods: ['POST'],
      pattern: '/{index}/_update/{id}',
      endpoint: 'update',
      queryParams: [
        'refresh',
        'if_seq_no',
        'if_primary_term',
        'routing',
        'wait_for_active_shards',
        'retry_on_conflict',
        'require_alias',
        '_source',
      ],
      handler: async (ctx) => {
        const target = engine.resolveSingle(ctx.params.index ?? '');
        const id = ctx.params.id ?? '';
        const options = checkVersionOptions(versionOptionsFromQuery(ctx.query), 'update');
        const body = ctx.json();
        const request = updateToWrite(target, id, body, options);
        if (request === 'noop') {
          const doc = target.docs.get(id);
          return {
            status: 200,
            body: {
              _index: target.name,
              _id: id,
              _version: doc?.version,
              result: 'noop',
              _shards: { total: 0, successful: 0, failed: 0 },
              _seq_no: doc?.seqNo,
              _primary_term: PRIMARY_TERM,
            },
          };
        }
        const { result, forced } = await writeOne(target, request, ctx);
        return {
          status: result.result === 'created' ? 201 : 200,
          body: writeResponse(target, id, result, forced),
        };
      },
    },
  ];
}

/** ES merges partial documents recursively (objects merge, everything else replaces). */
function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Turns an update body (`doc` with optional `doc_as_upsert`/`upsert`) into an index write; scripts are refused. */
export function updateToWrite(
  target: SearchIndex,
  id: string,
  body: unknown,
  options: { ifSeqNo?: number; ifPrimaryTerm?: number },
): WriteRequest | 'noop' {
  if (!isPlainObject(body)) throw illegalArgument('update request body must be an object');
  for (const key of Object.keys(body)) {
    if (!['doc', 'doc_as_upsert', 'upsert', 'detect_noop', '_source'].includes(key))
      throw illegalArgument(
        `unsupported update parameter [${key}] (only partial "doc" updates are supported; no scripts)`,
      );
  }
  const doc = body.doc;
  if (!isPlainObject(doc))
    throw new EsError(
      400,
      'action_request_validation_exception',
      'Validation Failed: 1: script or doc is missing;',
    );
  const current = target.docs.get(id);
  if (current === undefined) {
    if (body.doc_as_upsert === true) return { kind: 'index', id, source: doc, ...options };
    if (isPlainObject(body.upsert)) return { kind: 'index', id, source: body.upsert, ...options };
    throw new EsError(404, 'document_missing_exception', `[${id}]: document missing`, {
      index_uuid: target.meta.uuid,
      shard: '0',
      index: target.name,
    });
  }
  const merged = deepMerge(current.source, doc);
  if (body.detect_noop !== false && JSON.stringify(merged) === JSON.stringify(current.source)) return 'noop';
  return { kind: 'index', id, source: merged, ...options };
}
