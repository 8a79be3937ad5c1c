/**
 * `tidemark cutover` and `tidemark rollback`: which version reads go to. A full cutover and a rollback are the
 * same switch (one control-table transaction, with the store's own activation inside it); a gradual cutover
 * (shadow, split) only sets the candidate. Both directions refuse a version that does not cover the active one.
 */
import type {
  CandidateMode,
  ProjectionCandidate,
  ProjectionRoute,
  ProjectionVersionRow,
  Sink,
} from '@tidemark/projection-runtime';
import type { CoverageEntry } from './coverage';
import { compareCoverage, covers } from './coverage';
import { badRequest, conflict, control as controlCall, notFound } from './errors';
import type { Actor, OpsContext } from './ops-context';

export type CutoverMode = 'full' | CandidateMode;

export interface CutoverOptions extends Actor {
  projection: string;
  /** Required unless `abort`. */
  to?: number;
  force?: boolean;
  /** Overrides coverageWaitMs for this call. */
  waitMs?: number;
  /** full (default): switch now; shadow: compare reads; split: serve `percent`% from `to`. */
  mode?: CutoverMode;
  percent?: number;
  /** Ends a gradual cutover (the active version keeps every read). */
  abort?: boolean;
}

export interface CutoverOutcome {
  projection: string;
  action: 'cutover' | 'cutover.shadow' | 'cutover.split' | 'cutover.abort' | 'rollback';
  from: number;
  to: number | null;
  forced: boolean;
  /** Partitions where the target was behind the active version (only when forced). */
  lagging: CoverageEntry[];
  candidate: ProjectionCandidate | null;
}

/** How a switch may go: --force skips the coverage wait and switches to a lagging version anyway. */
type SwitchOptions = Actor & { force?: boolean; waitMs?: number };

type Activation = Awaited<ReturnType<NonNullable<Sink['activate']>>>;

/** Switches reads to `to` (full), or starts, changes or ends a gradual cutover (shadow, split, abort). */
export async function cutoverProjection(ops: OpsContext, options: CutoverOptions): Promise<CutoverOutcome> {
  const { projection } = options;
  const rows = await ops.rowsOf(projection);
  ops.knownProjection(projection, rows);
  const route = await routeOf(ops, projection);
  const base = { actor: options.actor, context: ops.context, projection, reason: options.reason ?? null };
  if (options.abort) {
    const candidate = route.candidate;
    await controlCall(() =>
      ops.control.setCandidate(ops.context, projection, null, {
        audit: {
          ...base,
          action: 'cutover.abort',
          version: candidate?.version ?? null,
          details: { candidate },
        },
      }),
    );
    return {
      projection,
      action: 'cutover.abort',
      from: route.active,
      to: null,
      forced: false,
      lagging: [],
      candidate: null,
    };
  }
  const to = options.to;
  if (to === undefined || !Number.isInteger(to) || to < 1) {
    throw badRequest('INVALID_ARGUMENT', 'cutover needs the version to switch to (--to <N>)');
  }
  const mode = options.mode ?? 'full';
  checkTarget(projection, to, rows, route);
  if (mode === 'shadow') {
    const candidate: ProjectionCandidate = { version: to, mode: 'shadow', percent: 100 };
    await controlCall(() =>
      ops.control.setCandidate(ops.context, projection, candidate, {
        audit: { ...base, action: 'cutover.shadow', version: to, details: { from: route.active, to } },
      }),
    );
    return {
      projection,
      action: 'cutover.shadow',
      from: route.active,
      to,
      forced: false,
      lagging: [],
      candidate,
    };
  }
  if (mode === 'split') {
    const percent = options.percent;
    if (percent === undefined || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw badRequest(
        'INVALID_ARGUMENT',
        `a split cutover needs a percent between 0 and 100 (got ${percent})`,
      );
    }
    const coverage = await coverageOf(
      ops,
      projection,
      route.active,
      to,
      rows,
      options.force ?? false,
      options.waitMs,
    );
    const candidate: ProjectionCandidate = { version: to, mode: 'split', percent };
    await controlCall(() =>
      ops.control.setCandidate(ops.context, projection, candidate, {
        audit: {
          ...base,
          action: 'cutover.split',
          version: to,
          details: { from: route.active, to, percent, ...coverage.details },
        },
      }),
    );
    return {
      projection,
      action: 'cutover.split',
      from: route.active,
      to,
      forced: coverage.forced,
      lagging: coverage.lagging,
      candidate,
    };
  }
  if (mode !== 'full') throw badRequest('INVALID_ARGUMENT', `unknown cutover mode '${String(mode)}'`);
  return switchTo(ops, projection, 'cutover', route, to, rows, options);
}

/** Switches reads back to the version active before the last switch (same checks as a cutover). */
export async function rollbackProjection(
  ops: OpsContext,
  options: SwitchOptions & { projection: string },
): Promise<CutoverOutcome> {
  const { projection } = options;
  const rows = await ops.rowsOf(projection);
  ops.knownProjection(projection, rows);
  const route = await routeOf(ops, projection);
  if (route.previous === null) {
    throw conflict('NO_PREVIOUS_VERSION', `${projection} has no previous version to roll back to`, {
      projection,
      active: route.active,
    });
  }
  checkTarget(projection, route.previous, rows, route);
  return switchTo(ops, projection, 'rollback', route, route.previous, rows, options);
}

async function routeOf(ops: OpsContext, projection: string): Promise<ProjectionRoute> {
  const route = await controlCall(() => ops.control.route(ops.context, projection));
  if (!route) {
    throw conflict('NO_ACTIVE_VERSION', `${projection} has no active version yet (no projector has run it)`, {
      projection,
    });
  }
  return route;
}

/** The version switched to must exist, be live, and not be the active one. */
function checkTarget(
  projection: string,
  to: number,
  rows: readonly ProjectionVersionRow[],
  route: ProjectionRoute,
): void {
  const row = rows.find((r) => r.version === to);
  if (!row) {
    throw notFound(
      'UNKNOWN_VERSION',
      `${projection} has no registered version ${to} (versions: ${rows.map((r) => r.version).join(', ')}); replay it first`,
      { projection, version: to },
    );
  }
  if (route.active === to) {
    throw conflict('ALREADY_ACTIVE', `version ${to} of ${projection} is already active`, {
      projection,
      version: to,
    });
  }
  if (row.state !== 'live') {
    throw conflict(
      'VERSION_NOT_LIVE',
      `version ${to} of ${projection} is ${row.state}, not live${row.state === 'building' ? ' (its replay has not finished: run or resume `tidemark replay`)' : ''}`,
      { projection, version: to, state: row.state },
    );
  }
}

/**
 * Whether `to` covers `from` on every partition (its checkpoint >= the other's as read first; a partition never
 * written counts as 0), waiting up to the coverage wait for it to get there. Refuses with CUTOVER_LAGGING unless
 * forced, which is logged and recorded.
 */
async function coverageOf(
  ops: OpsContext,
  projection: string,
  from: number,
  to: number,
  rows: readonly ProjectionVersionRow[],
  force: boolean,
  waitMs?: number,
): Promise<{ forced: boolean; lagging: CoverageEntry[]; details: Record<string, unknown> }> {
  const targetSink = ops.sinkOf(ops.definitionOf(projection, to, rows));
  const [active, first] = await Promise.all([
    ops.sinkOf(ops.definitionOf(projection, from, rows)).checkpoints(),
    targetSink.checkpoints(),
  ]);
  let target = first;
  const deadline = Date.now() + (force ? 0 : (waitMs ?? ops.options.coverageWaitMs ?? 10_000));
  while (!covers(active, target) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    target = await targetSink.checkpoints();
  }
  const { lagging, watermarks } = compareCoverage(active, target, ops.partitions);
  if (lagging.length > 0 && !force) {
    throw conflict(
      'CUTOVER_LAGGING',
      `version ${to} of ${projection} is behind the active version ${from} on ${lagging.length} partition(s) (${lagging
        .slice(0, 4)
        .map((e) => `p${e.partition}: ${e.target} < ${e.active}`)
        .join(', ')}${lagging.length > 4 ? ', ...' : ''}); wait for it to catch up, or --force`,
      { projection, from, to, lagging },
    );
  }
  if (lagging.length > 0) {
    ops.logger.warn(
      { projection, from, to, lagging },
      'forced: switching to a version that is behind the active one (reads may go back in time)',
    );
  }
  return {
    forced: force && lagging.length > 0,
    lagging: force ? lagging : [],
    details: { watermarks, ...(force ? { forced: true, lagging } : {}) },
  };
}

/**
 * The switch itself: the control table makes `to` active in one transaction, and the version's sink activates
 * in the store (where the store has its own alias) inside it, so that both change or neither does.
 */
async function switchTo(
  ops: OpsContext,
  projection: string,
  action: 'cutover' | 'rollback',
  route: ProjectionRoute,
  to: number,
  rows: readonly ProjectionVersionRow[],
  options: SwitchOptions,
): Promise<CutoverOutcome> {
  const from = route.active;
  const coverage = await coverageOf(ops, projection, from, to, rows, options.force ?? false, options.waitMs);
  const sink = ops.sinkOf(ops.definitionOf(projection, to, rows));
  const activate = sink.activate?.bind(sink);
  // Set inside the transaction once the store has switched.
  const store: { activation?: Activation } = {};
  try {
    await controlCall(() =>
      ops.control.activate(ops.context, projection, to, {
        expectedActive: from,
        audit: {
          actor: options.actor,
          action,
          context: ops.context,
          projection,
          version: to,
          reason: options.reason ?? null,
          details: { from, to, ...coverage.details },
        },
        ...(activate
          ? {
              beforeCommit: async () => {
                store.activation = await activate();
              },
            }
          : {}),
      }),
    );
  } catch (error) {
    // The store switched but the transaction did not commit: switch it back.
    await store.activation
      ?.undo()
      .catch((undoError: unknown) =>
        ops.logger.error({ err: undoError, projection }, 'alias not restored after a failed switch'),
      );
    throw error;
  }
  ops.logger.info({ projection, action, from, to, forced: coverage.forced }, 'active version switched');
  return {
    projection,
    action,
    from,
    to,
    forced: coverage.forced,
    lagging: coverage.lagging,
    candidate: null,
  };
}
