/**
 * Routing and the HTTP conventions of Elasticsearch: request bodies (JSON, NDJSON, gzip/deflate), querystring
 * validation (unknown parameters are a 400, as in ES), response content types, `x-elastic-product` on every
 * response, ES-shaped errors, `pretty` and `filter_path`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Logger } from 'pino';
import { SearchRequestError } from '../engine/contracts';
import { EsError, illegalArgument, parsingError } from './errors';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

/** ES's default http.max_content_length. */
const MAX_BODY_BYTES = 100 * 1024 * 1024;

/** Parameters every endpoint accepts. */
const COMMON_PARAMS = [
  'pretty',
  'human',
  'error_trace',
  'filter_path',
  'timeout',
  'master_timeout',
  'format',
];

export interface RequestContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
  /** The body parsed as one JSON object (undefined when empty). Throws parsing_exception. */
  json(): unknown;
}

export interface Reply {
  status: number;
  /** A JSON value; `undefined` sends no body (HEAD). */
  body?: unknown;
}

export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

export interface Route {
  methods: string[];
  pattern: string;
  /** Endpoint name used for metrics and logs, e.g. `index`, `search`. */
  endpoint: string;
  /** Accepted querystring parameters besides COMMON_PARAMS. */
  queryParams: string[];
  handler: Handler;
}

interface CompiledRoute extends Route {
  segments: string[];
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | null {
  if (pattern.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const a = actual[i] as string;
    if (p.startsWith('{')) {
      // Index names never start with '_' (that is how ES tells `/_alias` from `/{index}`), except `_all`.
      if (p === '{index}' && a.startsWith('_') && a !== '_all') return null;
      if (a === '') return null;
      params[p.slice(1, -1)] = a;
    } else if (p !== a) {
      return null;
    }
  }
  return params;
}

export interface Dispatcher {
  dispatch(request: IncomingMessage, response: ServerResponse): void;
}

export type RequestObserver = (endpoint: string, method: string, status: number, seconds: number) => void;

export function createDispatcher(routes: Route[], logger: Logger, observe: RequestObserver): Dispatcher {
  const compiled: CompiledRoute[] = routes.map((r) => ({
    ...r,
    segments: r.pattern.split('/').filter((s) => s !== ''),
  }));

  const route = (
    method: string,
    segments: string[],
    path: string,
  ): { route: CompiledRoute; params: Record<string, string> } => {
    const allowed = new Set<string>();
    for (const r of compiled) {
      const params = matchSegments(r.segments, segments);
      if (params === null) continue;
      if (r.methods.includes(method)) return { route: r, params };
      for (const m of r.methods) allowed.add(m);
    }
    if (allowed.size > 0)
      throw new EsError(
        405,
        'method_not_allowed',
        `Incorrect HTTP method for uri [${path}] and method [${method}], allowed: [${[...allowed].join(', ')}]`,
      );
    throw new EsError(
      400,
      'illegal_argument_exception',
      `no handler found for uri [${path}] and method [${method}]`,
    );
  };

  return {
    dispatch(request, response) {
      const started = process.hrtime.bigint();
      const method = request.method ?? 'GET';
      const url = new URL(request.url ?? '/', 'http://localhost');
      let endpoint = 'unknown';
      const finish = (status: number, body: unknown): void => {
        send(request, response, url.searchParams, status, body);
        observe(endpoint, method, status, Number(process.hrtime.bigint() - started) / 1e9);
      };
      readBody(request)
        .then(async (rawBody) => {
          let segments: string[];
          try {
            segments = url.pathname
              .split('/')
              .filter((s) => s !== '')
              .map((s) => decodeURIComponent(s));
          } catch {
            throw illegalArgument(`invalid path encoding [${url.pathname}]`);
          }
          const matched = route(method, segments, url.pathname);
          endpoint = matched.route.endpoint;
          for (const key of url.searchParams.keys()) {
            if (!COMMON_PARAMS.includes(key) && !matched.route.queryParams.includes(key))
              throw illegalArgument(`request [${url.pathname}] contains unrecognized parameter: [${key}]`);
          }
          const format = url.searchParams.get('format');
          if (format !== null && format !== 'json')
            throw illegalArgument(`unsupported format [${format}]; only json`);
          const ctx: RequestContext = {
            method,
            path: url.pathname,
            params: matched.params,
            query: url.searchParams,
            headers: request.headers,
            rawBody,
            json: () => parseJsonBody(rawBody),
          };
          const reply = await matched.route.handler(ctx);
          finish(reply.status, reply.body);
        })
        .catch((error: unknown) => {
          const esError = toEsError(error);
          if (esError.status >= 500) logger.error({ err: error, method, url: request.url }, 'request failed');
          else
            logger.debug(
              { method, url: request.url, type: esError.type, reason: esError.reason },
              'request rejected',
            );
          finish(esError.status, method === 'HEAD' ? undefined : esError.toBody());
        });
    },
  };
}

export function toEsError(error: unknown): EsError {
  if (error instanceof EsError) return error;
  if (error instanceof SearchRequestError) return new EsError(400, error.type, error.reason);
  const message = error instanceof Error ? error.message : String(error);
  return new EsError(500, 'exception', message);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new EsError(
        413,
        'content_too_long_exception',
        `request body is larger than ${MAX_BODY_BYTES} bytes`,
      );
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const encoding = request.headers['content-encoding'];
  if (encoding === 'gzip') return gunzip(body);
  if (encoding === 'deflate') return inflate(body);
  if (encoding !== undefined && encoding !== 'identity')
    throw illegalArgument(`unsupported content-encoding [${encoding}]`);
  return body;
}

function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw parsingError(`failed to parse request body as JSON: ${(error as Error).message}`);
  }
}

function send(
  request: IncomingMessage,
  response: ServerResponse,
  query: URLSearchParams,
  status: number,
  body: unknown,
): void {
  const accept = request.headers.accept ?? '';
  // The official client asks for the vendored type; answer in kind (its parser accepts both).
  const contentType = accept.includes('application/vnd.elasticsearch+json')
    ? 'application/vnd.elasticsearch+json;compatible-with=9'
    : 'application/json; charset=UTF-8';
  const headers: Record<string, string | number> = {
    'x-elastic-product': 'Elasticsearch',
    'content-type': contentType,
  };
  if (body === undefined || request.method === 'HEAD') {
    headers['content-length'] = 0;
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const filterPath = query.get('filter_path');
  const shaped = filterPath !== null && status < 300 ? applyFilterPath(body, filterPath) : body;
  const pretty = query.has('pretty') && query.get('pretty') !== 'false';
  const text = pretty ? `${JSON.stringify(shaped, null, 2)}\n` : JSON.stringify(shaped);
  headers['content-length'] = Buffer.byteLength(text);
  response.writeHead(status, headers);
  response.end(text);
}

/** ES `filter_path`: comma-separated dotted paths; `*` matches one key. Keeps only the matching parts. */
export function applyFilterPath(body: unknown, filterPath: string): unknown {
  const patterns = filterPath
    .split(',')
    .filter((p) => p !== '')
    .map((p) => {
      if (p.startsWith('-') || p.includes('**')) throw illegalArgument(`unsupported filter_path [${p}]`);
      return p.split('.');
    });
  const filter = (value: unknown, paths: string[][]): unknown => {
    if (paths.some((p) => p.length === 0)) return value;
    if (Array.isArray(value)) {
      const items = value.map((v) => filter(v, paths)).filter((v) => v !== undefined);
      return items.length > 0 ? items : undefined;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const rest = paths.filter((p) => p[0] === '*' || p[0] === key).map((p) => p.slice(1));
      if (rest.length === 0) continue;
      const kept = filter(child, rest);
      if (kept !== undefined) out[key] = kept;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  return filter(body, patterns) ?? {};
}
