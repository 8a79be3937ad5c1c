import { DEFAULT_RETRY_AFTER_SECONDS } from '@tidemark/http';
import { TidemarkError } from '@tidemark/schemas';

/** The query API's error codes; its errors are TidemarkErrors (with response headers where they need them). */
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
): TidemarkError {
  return new TidemarkError(
    CONSISTENCY_TIMEOUT,
    `the ${view} view did not reach the consistency token within ${timeoutMs} ms`,
    503,
    true,
    { view, timeoutMs, ...details },
    { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) },
  );
}

export function requestAborted(): TidemarkError {
  return new TidemarkError(REQUEST_ABORTED, 'the client went away while the read waited', 499, false);
}
