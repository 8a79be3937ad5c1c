import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { ApiKey } from '../options';

/** The parts of Fastify's request (what Nest hands guards and controllers) the query API reads. */
export interface QueryRequest {
  headers: IncomingHttpHeaders;
  url?: string;
  method?: string;
  params: Record<string, string | undefined>;
  query?: Record<string, unknown>;
  /** Set by the auth guard. */
  principal?: ApiKey;
  /** Set by the request observer. */
  requestId?: string;
}

/** The parts of Fastify's reply the controllers use: a header, and the Node response (to see a client leave). */
export interface QueryResponse {
  header(name: string, value: string): unknown;
  raw: ServerResponse;
}

/** A single-valued header (the first one when repeated), or undefined. */
export function header(request: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
