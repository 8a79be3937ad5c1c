import type { IncomingHttpHeaders } from 'node:http';
import type { ApiKey } from '../options';

/** The parts of Fastify's request (what Nest hands guards and controllers) the gateway reads. */
export interface GatewayRequest {
  headers: IncomingHttpHeaders;
  url?: string;
  method?: string;
  params: Record<string, string | undefined>;
  body?: unknown;
  /** Set by the auth guard. */
  principal?: ApiKey;
  /** Set by the request observer. */
  requestId?: string;
}

/** The part of Fastify's reply the controllers use (express's response has it too). */
export interface GatewayResponse {
  header(name: string, value: string): unknown;
}

/** A single-valued header (the first one when repeated), or undefined. */
export function header(request: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
