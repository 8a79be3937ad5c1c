/** `tidemark audit`: the operator actions recorded in the control table's audit log, newest first. */
import type { AuditRecord } from '@tidemark/projection-runtime';
import { badRequest, control as controlCall } from './errors';
import type { OpsContext } from './ops-context';

/** The number of entries asked for (default 50), refused (INVALID_ARGUMENT) outside 1..10000. */
export function auditLimit(limit: number | undefined): number {
  const wanted = limit ?? 50;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > 10_000) {
    throw badRequest('INVALID_ARGUMENT', `limit must be between 1 and 10000 (got ${wanted})`);
  }
  return wanted;
}

/** The audit log of the context (or of one of its projections), newest first. */
export async function readAuditLog(
  ops: OpsContext,
  options: { limit?: number; projection?: string } = {},
): Promise<AuditRecord[]> {
  const limit = auditLimit(options.limit);
  return controlCall(() =>
    ops.control.auditLog({ context: ops.context, projection: options.projection, limit }),
  );
}
