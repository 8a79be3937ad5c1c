/**
 * `tidemark retire`: stops a version that no reads go to and drops its targets once the grace period ends (at
 * once with a grace of 0).
 */
import type { Sink } from '@tidemark/projection-runtime';
import { badRequest, conflict, control as controlCall, notFound } from './errors';
import type { Actor, OpsContext } from './ops-context';

export interface RetireOptions extends Actor {
  projection: string;
  version: number;
  /** How long the targets are kept (default 10 minutes); 0 drops them now. */
  graceMs?: number;
}

export interface RetireOutcome {
  projection: string;
  version: number;
  retireAfter: string;
  dropped: boolean;
}

export const DEFAULT_RETIRE_GRACE_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Retires a version that is neither active nor the candidate: projector services stop it, and its targets
 * are dropped once the grace period ends (at once with a grace of 0).
 */
export async function retireVersion(ops: OpsContext, options: RetireOptions): Promise<RetireOutcome> {
  const { projection, version } = options;
  const graceMs = options.graceMs ?? DEFAULT_RETIRE_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw badRequest('INVALID_ARGUMENT', `the grace period must be >= 0 (got ${graceMs} ms)`);
  }
  const rows = await ops.rowsOf(projection);
  ops.knownProjection(projection, rows);
  const row = rows.find((r) => r.version === version);
  if (!row) {
    throw notFound('UNKNOWN_VERSION', `${projection} has no registered version ${version}`, {
      projection,
      version,
    });
  }
  const route = await controlCall(() => ops.control.route(ops.context, projection));
  const role =
    route?.active === version ? 'active' : route?.candidate?.version === version ? 'candidate' : null;
  if (role) {
    throw conflict(
      'VERSION_ACTIVE',
      `version ${version} of ${projection} is the ${role} version; ${role === 'active' ? 'cut over to another version first' : 'abort the gradual cutover first (cutover --abort)'}`,
      { projection, version, role },
    );
  }
  if (row.droppedAt) {
    throw conflict('VERSION_DROPPED', `version ${version} of ${projection} was already retired and dropped`, {
      projection,
      version,
      droppedAt: row.droppedAt.toISOString(),
    });
  }
  const retireAfter = new Date(Date.now() + graceMs);
  await controlCall(() =>
    ops.control.setState(ops.context, projection, version, 'retired', {
      retireAfter,
      audit: {
        actor: options.actor,
        action: 'retire',
        context: ops.context,
        projection,
        version,
        reason: options.reason ?? null,
        details: { graceMs, retireAfter: retireAfter.toISOString(), previousState: row.state },
      },
    }),
  );
  let dropped = false;
  if (graceMs === 0) {
    const sink = ops.sinkOf(ops.definitionOf(projection, version, rows));
    // Projector services stop the version on the control NOTIFY; wait until its checkpoints stand still, so
    // that no batch in flight writes into targets dropped under it.
    await waitUntilStill(ops, sink);
    await sink.drop();
    await controlCall(() => ops.control.markDropped(ops.context, projection, version));
    await controlCall(() =>
      ops.control.audit({
        actor: options.actor,
        action: 'retire.drop',
        context: ops.context,
        projection,
        version,
        reason: options.reason ?? null,
        details: {},
      }),
    );
    dropped = true;
  }
  return { projection, version, retireAfter: retireAfter.toISOString(), dropped };
}

/** Resolves once a sink's checkpoints did not move for a second (at most ~15 s). */
async function waitUntilStill(ops: OpsContext, sink: Sink): Promise<void> {
  const key = (m: Map<number, number>) => JSON.stringify([...m].sort((x, y) => x[0] - y[0]));
  let previous = key(await sink.checkpoints());
  for (let i = 0; i < 15; i++) {
    await sleep(1_000);
    const current = key(await sink.checkpoints());
    if (current === previous) return;
    previous = current;
  }
  ops.logger.warn('the retired version is still being written to; dropping it anyway');
}
