import { TidemarkError } from '@tidemark/schemas';

/** A TidemarkError that also sets response headers (Retry-After, WWW-Authenticate, Location). */
export class GatewayError extends TidemarkError {
  constructor(
    code: string,
    message: string,
    status: number,
    retryable: boolean,
    details?: Record<string, unknown>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message, status, retryable, details);
    this.name = 'GatewayError';
  }
}

/** Seconds a client should wait before retrying a retryable 429/503 that named none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;
