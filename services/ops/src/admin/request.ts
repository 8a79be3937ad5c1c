import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AdminApiKey } from './options';

/** The parts of express's request the admin API reads (no @types/express needed). */
export interface AdminRequest extends IncomingMessage {
  headers: IncomingHttpHeaders;
  params: Record<string, string | undefined>;
  query?: Record<string, unknown>;
  body?: unknown;
  /** Set by the auth guard. */
  principal?: AdminApiKey;
  /** Set by the request observer. */
  requestId?: string;
}

export type AdminResponse = ServerResponse;

/** A single-valued header (the first one when repeated), or undefined. */
export function header(request: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
