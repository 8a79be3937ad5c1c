/**
 * The errors of operator actions: a stable code (printed by the CLI as `tidemark <cmd>: <CODE>: message`) and
 * the HTTP status the admin API answers with. The control table's ControlConflictError codes map here too, so
 * both front ends agree on what each refusal means.
 */
import { ControlConflictError } from '@tidemark/projection-runtime';
import { TidemarkError } from '@tidemark/schemas';

export class ProjectionOpsError extends TidemarkError {
  constructor(code: string, message: string, status: number, details?: Record<string, unknown>) {
    super(code, message, status, status >= 500, details);
    this.name = 'ProjectionOpsError';
  }
}

/** 404: the projection or version does not exist (in the catalog or the control table). */
export const notFound = (code: string, message: string, details?: Record<string, unknown>) =>
  new ProjectionOpsError(code, message, 404, details);
/** 409: the action conflicts with the current state (lagging, active, not live, route changed, ...). */
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new ProjectionOpsError(code, message, 409, details);
/** 400: the request itself is wrong. */
export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new ProjectionOpsError(code, message, 400, details);
/** 503: a store or the broker the action needs is not reachable or not configured. */
export const unavailable = (code: string, message: string, details?: Record<string, unknown>) =>
  new ProjectionOpsError(code, message, 503, details);

/** Control-table codes that mean "no such thing" rather than "not now". */
const NOT_FOUND_CODES = new Set(['UNKNOWN_VERSION', 'UNKNOWN_PROJECTION', 'NO_ACTIVE_VERSION']);
const BAD_REQUEST_CODES = new Set(['INVALID_STATE', 'INVALID_CANDIDATE', 'RETIRE_AFTER_REQUIRED']);

/** A control-table refusal as an operator error (404, 400 or 409 by code); anything else unchanged. */
export function fromControlError(error: unknown): unknown {
  if (!(error instanceof ControlConflictError)) return error;
  const status = NOT_FOUND_CODES.has(error.code) ? 404 : BAD_REQUEST_CODES.has(error.code) ? 400 : 409;
  return new ProjectionOpsError(error.code, error.message, status, error.details);
}

/** Runs a control-table call, translating its refusals. */
export async function control<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw fromControlError(error);
  }
}

/** The stable code of an error, if it has one (TidemarkError, ControlConflictError). */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof TidemarkError || error instanceof ControlConflictError) return error.code;
  return undefined;
}
