/**
 * What a Tidemark HTTP service gives the shared plumbing: the API keys (ApiKeyAuthenticator), the logger and body
 * limit of error answers, and an optional translation of its own errors into TidemarkErrors (HttpExceptionFilter).
 */
import type { Logger } from 'pino';
import type { ApiKey } from './auth';

export interface HttpServiceConfig {
  apiKeys: readonly ApiKey[];
  /** Where unexpected errors (500, with an error id) and answered 5xx are logged. */
  logger: Logger;
  /** The largest accepted request body, named in a 413 when the body parser did not say (default: not named). */
  maxBodyBytes?: number;
  /**
   * The service's own errors as TidemarkErrors (e.g. the admin API's control-table refusals and zod issues),
   * applied before the filter maps; anything it does not know it returns unchanged.
   */
  translateError?: (error: unknown) => unknown;
}

/** Nest injection token of the HttpServiceConfig. */
export const HTTP_SERVICE_CONFIG = Symbol.for('tidemark.http.config');
