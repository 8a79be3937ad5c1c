import { TidemarkError } from '@tidemark/schemas';

/** A TidemarkError that also sets response headers (WWW-Authenticate). */
export class AdminError extends TidemarkError {
  constructor(
    code: string,
    message: string,
    status: number,
    details?: Record<string, unknown>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message, status, status >= 500, details);
    this.name = 'AdminError';
  }
}
