/**
 * Errors that cross a boundary carry a stable code, an HTTP status and whether a retry can help.
 * One exception filter in each HTTP service maps them; callers retry only what is retryable.
 */
export class TidemarkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retryable: boolean,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'TidemarkError';
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
