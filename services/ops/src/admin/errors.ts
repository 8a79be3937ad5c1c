import { ControlConflictError } from '@tidemark/projection-runtime';
import { TidemarkError } from '@tidemark/schemas';
import { ZodError } from 'zod';
import { fromControlError } from '../projection-ops/errors';

/**
 * The admin API's own errors as TidemarkErrors, before the shared exception filter (@tidemark/http) maps them:
 * a control-table refusal by its code (404, 400 or 409, as the CLI), a request zod refused as 400
 * INVALID_REQUEST listing the issues. Anything else is returned unchanged.
 */
export function translateAdminError(error: unknown): unknown {
  if (error instanceof ControlConflictError) return fromControlError(error);
  if (error instanceof ZodError) {
    return new TidemarkError(
      'INVALID_REQUEST',
      `the request is not valid: ${error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
        .join('; ')}`,
      400,
      false,
      { issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    );
  }
  return error;
}
