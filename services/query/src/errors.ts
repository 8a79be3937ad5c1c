import { TidemarkError } from '@tidemark/schemas';

/** A TidemarkError that also sets response headers (Retry-After, WWW-Authenticate, Consistency-Token). */
export class QueryError extends TidemarkError {
  constructor(
    code: string,
    message: string,
    status: number,
    retryable: boolean,
    details?: Record<string, unknown>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message, status, retryable, details);
    this.name = 'QueryError';
  }

  /** The same error with more headers (e.g. the Consistency-Token of a 404). */
  withHeaders(headers: Readonly<Record<string, string>>): QueryError {
    return new QueryError(this.code, this.message, this.status, this.retryable, this.details, {
      ...this.headers,
      ...headers,
    });
  }
}

/** Seconds a client should wait before retrying a retryable 429/503 that named none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export const CONSISTENCY_TIMEOUT = 'CONSISTENCY_TIMEOUT';
export const TOKEN_AHEAD_OF_LOG = 'TOKEN_AHEAD_OF_LOG';
export const REQUEST_ABORTED = 'REQUEST_ABORTED';
export const VIEW_UNAVAILABLE = 'VIEW_UNAVAILABLE';
export const QUERY_SHUTTING_DOWN = 'QUERY_SHUTTING_DOWN';
export const INVALID_ID = 'INVALID_ID';
export const INVALID_QUERY_PARAMETER = 'INVALID_QUERY_PARAMETER';
export const TOPIC_IDENTITY_UNAVAILABLE = 'TOPIC_IDENTITY_UNAVAILABLE';

export function consistencyTimeout(
  view: string,
  timeoutMs: number,
  details: Record<string, unknown>,
): QueryError {
  return new QueryError(
    CONSISTENCY_TIMEOUT,
    `the ${view} view did not reach the consistency token within ${timeoutMs} ms`,
    503,
    true,
    { view, timeoutMs, ...details },
    { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) },
  );
}

export function requestAborted(): QueryError {
  return new QueryError(REQUEST_ABORTED, 'the client went away while the read waited', 499, false);
}
