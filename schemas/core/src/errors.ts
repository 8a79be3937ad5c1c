/**
 * Errors that cross a boundary carry a stable code, an HTTP status and whether a retry can help, and the response
 * headers an HTTP answer of them sets (Retry-After, WWW-Authenticate, Location, Consistency-Token).
 * The one exception filter of the HTTP services (@tidemark/http) maps them; callers retry only what is retryable.
 */
export class TidemarkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retryable: boolean,
    readonly details?: Record<string, unknown>,
    /** Response headers of the HTTP answer; not part of the JSON body. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'TidemarkError';
  }

  /** The same error with more response headers (e.g. the Consistency-Token of a 404). */
  withHeaders(headers: Readonly<Record<string, string>>): TidemarkError {
    return new TidemarkError(this.code, this.message, this.status, this.retryable, this.details, {
      ...this.headers,
      ...headers,
    });
  }

  toJSON(): { code: string; message: string; retryable: boolean; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export const invalid = (code: string, message: string, details?: Record<string, unknown>) =>
  new TidemarkError(code, message, 400, false, details);
