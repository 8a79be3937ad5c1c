/** Helpers shared by the endpoint handlers. */
import type { SearchIndex, VersionType, WriteResult } from '../engine/search-index';
import { PRIMARY_TERM } from '../engine/search-index';
import { EsError, illegalArgument } from '../http/errors';
import type { RequestContext } from '../http/router';

export const SHARDS_OK = { total: 1, successful: 1, failed: 0 };
export const SEARCH_SHARDS = { total: 1, successful: 1, skipped: 0, failed: 0 };

export type RefreshPolicy = 'true' | 'wait_for' | 'false';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function refreshPolicy(query: URLSearchParams): RefreshPolicy {
  const value = query.get('refresh');
  if (value === null || value === 'false') return 'false';
  if (value === '' || value === 'true') return 'true';
  if (value === 'wait_for') return 'wait_for';
  throw illegalArgument(`Unknown value for refresh: [${value}].`);
}

/** Applies the refresh policy after the writes are durable; true when a refresh was forced. */
export async function applyRefresh(indices: Iterable<SearchIndex>, policy: RefreshPolicy): Promise<boolean> {
  if (policy === 'true') {
    for (const index of indices) index.refresh();
    return true;
  }
  if (policy === 'wait_for') await Promise.all([...indices].map((index) => index.waitForRefresh()));
  return false;
}

export function intParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n))
    throw illegalArgument(`Failed to parse int parameter [${name}] with value [${value}]`);
  return n;
}

export function versionType(value: unknown): VersionType | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'internal' || value === 'external' || value === 'external_gte') return value;
  if (value === 'force') throw illegalArgument('version type [force] may no longer be used');
  throw illegalArgument(`No version type match [${String(value)}]`);
}

export interface VersionOptions {
  version?: number;
  versionType?: VersionType;
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
}

/** Checks the combinations ES refuses (internal versioning with an explicit version, create with external...). */
export function checkVersionOptions(
  options: VersionOptions,
  kind: 'index' | 'create' | 'delete' | 'update',
): VersionOptions {
  const type = options.versionType ?? 'internal';
  if (options.version !== undefined && (!Number.isInteger(options.version) || options.version < 0))
    throw validation('version must be a non-negative integer');
  if (type === 'internal' && options.version !== undefined)
    throw validation(
      'internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead',
    );
  if (type !== 'internal' && options.version === undefined)
    throw validation('an external version is required');
  if (type !== 'internal' && (kind === 'create' || kind === 'update'))
    throw validation(`${kind} operations only support internal versioning. use index instead`);
  if (type !== 'internal' && options.ifSeqNo !== undefined)
    throw validation('compare and write operations can not be used with version type [external]');
  if ((options.ifSeqNo === undefined) !== (options.ifPrimaryTerm === undefined))
    throw validation('if_seq_no and if_primary_term must be given together');
  return options;
}

function validation(message: string): EsError {
  return new EsError(400, 'action_request_validation_exception', `Validation Failed: 1: ${message};`);
}

export function versionOptionsFromQuery(query: URLSearchParams): VersionOptions {
  const options: VersionOptions = {};
  const version = intParam(query, 'version');
  if (version !== undefined) options.version = version;
  const type = versionType(query.get('version_type') ?? undefined);
  if (type !== undefined) options.versionType = type;
  const ifSeqNo = intParam(query, 'if_seq_no');
  if (ifSeqNo !== undefined) options.ifSeqNo = ifSeqNo;
  const ifPrimaryTerm = intParam(query, 'if_primary_term');
  if (ifPrimaryTerm !== undefined) options.ifPrimaryTerm = ifPrimaryTerm;
  return options;
}

export function writeResponse(index: SearchIndex, id: string, result: WriteResult, forcedRefresh: boolean) {
  return {
    _index: index.name,
    _id: id,
    _version: result.version,
    result: result.result,
    ...(forcedRefresh ? { forced_refresh: true } : {}),
    _shards: SHARDS_OK,
    _seq_no: result.seqNo,
    _primary_term: PRIMARY_TERM,
  };
}

export function sourceObject(ctx: RequestContext): Record<string, unknown> {
  const body = ctx.json();
  if (!isPlainObject(body))
    throw new EsError(400, 'mapper_parsing_exception', 'failed to parse, document is empty or not an object');
  return body;
}

/** `_source` filtering on dotted paths with `*` wildcards (ES `_source`, `_source_includes`, `_source_excludes`). */
export interface SourceFilter {
  enabled: boolean;
  includes: string[];
  excludes: string[];
}

function toList(value: unknown, what: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw illegalArgument(`[${what}] must be a string or an array of strings`);
}

export function sourceFilterFrom(bodySource: unknown, query: URLSearchParams): SourceFilter {
  const filter: SourceFilter = { enabled: true, includes: [], excludes: [] };
  if (bodySource === false) filter.enabled = false;
  else if (bodySource === true || bodySource === undefined) {
    // whole source
  } else if (isPlainObject(bodySource)) {
    if (bodySource.includes !== undefined) filter.includes = toList(bodySource.includes, '_source.includes');
    if (bodySource.excludes !== undefined) filter.excludes = toList(bodySource.excludes, '_source.excludes');
  } else {
    filter.includes = toList(bodySource, '_source');
  }
  const qs = query.get('_source');
  if (qs === 'false') filter.enabled = false;
  else if (qs !== null && qs !== 'true' && qs !== '') filter.includes = qs.split(',');
  const inc = query.get('_source_includes');
  if (inc !== null) filter.includes = inc.split(',');
  const exc = query.get('_source_excludes');
  if (exc !== null) filter.excludes = exc.split(',');
  return filter;
}

function pathMatches(patterns: RegExp[], path: string): boolean {
  return patterns.some((p) => p.test(path));
}

function toRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  // A pattern naming an object also selects everything under it.
  return new RegExp(`^${body}(\\..*)?$`);
}

export function filterSource(
  source: Record<string, unknown>,
  filter: SourceFilter,
): Record<string, unknown> | undefined {
  if (!filter.enabled) return undefined;
  if (filter.includes.length === 0 && filter.excludes.length === 0) return source;
  const includes = filter.includes.map(toRegExp);
  const excludes = filter.excludes.map(toRegExp);
  const walk = (obj: Record<string, unknown>, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (pathMatches(excludes, path)) continue;
      const included = includes.length === 0 || pathMatches(includes, path);
      if (isPlainObject(value)) {
        const inner = walk(value, path);
        if (Object.keys(inner).length > 0 || (included && Object.keys(value).length === 0)) out[key] = inner;
      } else if (included) {
        out[key] = value;
      }
    }
    return out;
  };
  return walk(source, '');
}
