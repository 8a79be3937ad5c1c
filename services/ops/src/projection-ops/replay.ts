/**
 * `tidemark replay`: builds a projection version from offset 0 into its own targets, in this process, while
 * live traffic goes on, and sets it live once it has caught up with the log.
 */
import type { AuditEntry } from '@tidemark/projection-runtime';
import { Projector } from '@tidemark/projection-runtime';
import { Registry } from 'prom-client';
import { conflict, control as controlCall } from './errors';
import type { Actor, OpsContext } from './ops-context';
import type { ReplayProgress } from './progress';
import { RateMeter, replayProgress } from './progress';
import { ThrottledSink } from './throttled-sink';

export interface ReplayOptions extends Actor {
  projection: string;
  version: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** Stops the replay (the version stays `building`; a rerun resumes from its checkpoints). */
  signal?: AbortSignal;
  /** Throttles the rebuild (log offsets per second). */
  maxEventsPerSecond?: number;
  /** Called once the replay is accepted (checked, registered, audited), before its projector starts. */
  onAccepted?: () => void;
}

export interface ReplayOutcome {
  projection: string;
  version: number;
  /** `live`: caught up and switched to live now; `already-live`: nothing to do; `stopped`: aborted. */
  status: 'live' | 'already-live' | 'stopped';
  appliedEvents: number;
  seconds: number;
  progress: ReplayProgress | null;
}

/**
 * Builds a version from offset 0 into its own targets while live traffic goes on, in this process, and sets
 * it live once every partition's checkpoint reached the log end read at the same poll. Rerunning after a crash
 * resumes from the sink's checkpoints (nothing is reset).
 */
export async function replayVersion(ops: OpsContext, options: ReplayOptions): Promise<ReplayOutcome> {
  const { projection, version } = options;
  const definition = ops.catalogDefinition(projection, version);
  const rows = await ops.rowsOf(projection);
  const row = rows.find((r) => r.version === version);
  const outcome = (status: ReplayOutcome['status'], progress: ReplayProgress | null, seconds: number) => ({
    projection,
    version,
    status,
    appliedEvents: progress?.appliedEvents ?? 0,
    seconds,
    progress,
  });
  if (row?.state === 'live') return outcome('already-live', null, 0);
  if (row?.state === 'retired') {
    throw conflict(
      'VERSION_RETIRED',
      `version ${version} of ${projection} is retired${row.droppedAt ? ' and its targets were dropped' : ''}; replay a new version instead`,
      { projection, version },
    );
  }
  const audit: AuditEntry = {
    actor: options.actor,
    action: 'replay',
    context: ops.context,
    projection,
    version,
    reason: options.reason ?? null,
    details: { store: definition.store, resumed: row !== undefined, previousState: row?.state ?? null },
  };
  if (row?.state === 'failed') {
    await controlCall(() => ops.control.setState(ops.context, projection, version, 'building', { audit }));
  } else {
    if (!row) {
      await controlCall(() =>
        ops.control.register(
          { context: ops.context, name: projection, version, store: definition.store },
          { state: 'building' },
        ),
      );
    }
    await controlCall(() => ops.control.audit(audit));
  }
  options.onAccepted?.();

  const inner = ops.newSink(definition);
  const sink = options.maxEventsPerSecond ? new ThrottledSink(inner, options.maxEventsPerSecond) : inner;
  const logger = ops.logger.child({ replay: `${projection}.v${version}` });
  let projector: Projector | null = null;
  const started = Date.now();
  try {
    await sink.prepare();
    const initial = await ops.checkpointsOf(sink);
    const initialTotal = initial.reduce((a, b) => a + b, 0);
    projector = await Projector.start({
      brokers: ops.options.brokers,
      definition,
      sink,
      events: ops.events,
      bus: ops.watermarkBus(),
      control: ops.control,
      logger,
      metrics: new Registry(),
      // Not live yet: projector services leave it alone, and it records no side effects (no outbox).
      registerState: 'building',
      sessionTimeoutMs: ops.options.sessionTimeoutMs,
      heartbeatIntervalMs: ops.options.heartbeatIntervalMs,
      // Small chunks keep a throttled replay smooth.
      ...(options.maxEventsPerSecond
        ? { maxBatchEvents: Math.max(1, Math.ceil(options.maxEventsPerSecond / 10)) }
        : {}),
    });
    logger.info({ initial }, 'replay started');
    const meter = new RateMeter();
    meter.sample(Date.now(), 0);
    const poll = ops.options.pollIntervalMs ?? 500;
    let progress: ReplayProgress | null = null;
    // The log end to reach, fixed once the replay is close: under live traffic the end keeps moving, and a
    // view whose writes become visible in steps (a search refresh) would rarely be at the newest end on every
    // partition at the same poll. Reaching a fixed recent end is what "caught up" means.
    let target: number[] | null = null;
    for (;;) {
      if (options.signal?.aborted) {
        logger.info('replay stopped; the version stays building and a rerun resumes');
        return outcome('stopped', progress, (Date.now() - started) / 1000);
      }
      // Log ends first: a checkpoint read after them that reaches them covers everything they held.
      const ends = await ops.logEnds();
      const checkpoints = await ops.checkpointsOf(sink);
      progress = replayProgress(checkpoints, ends, { initialTotal, meter, started, now: Date.now() });
      options.onProgress?.(progress);
      if (target === null && progress.lag <= Math.max(1_000, Math.ceil(progress.logEndTotal / 100))) {
        target = ends;
      }
      const reached = target;
      if (reached && checkpoints.every((checkpoint, partition) => checkpoint >= (reached[partition] ?? 0))) {
        break;
      }
      const halted = projector.status().filter((s) => s.halted !== null);
      if (halted.length > 0) await failReplay(ops, options, halted);
      await sleepOrAbort(poll, options.signal);
    }
    const seconds = (Date.now() - started) / 1000;
    await controlCall(() =>
      ops.control.setState(ops.context, projection, version, 'live', {
        audit: {
          actor: options.actor,
          action: 'replay.complete',
          context: ops.context,
          projection,
          version,
          reason: options.reason ?? null,
          details: {
            appliedEvents: progress?.appliedEvents ?? 0,
            seconds,
            watermark: progress?.partitions,
          },
        },
      }),
    );
    logger.info({ seconds, applied: progress?.appliedEvents }, 'replay complete: version live');
    return outcome('live', progress, seconds);
  } finally {
    await projector?.stop().catch((error: unknown) => logger.warn({ err: error }, 'projector stop failed'));
    await sink.close().catch(() => undefined);
  }
}

/** Marks the version failed (audited) and refuses with REPLAY_HALTED: its projector cannot apply an event. */
async function failReplay(
  ops: OpsContext,
  options: ReplayOptions,
  halted: { partition: number; halted: { offset: number; error: string } | null }[],
): Promise<never> {
  const details = {
    halted: halted.map((h) => ({
      partition: h.partition,
      offset: h.halted?.offset,
      error: h.halted?.error,
    })),
  };
  await controlCall(() =>
    ops.control.setState(ops.context, options.projection, options.version, 'failed', {
      audit: {
        actor: options.actor,
        action: 'replay.failed',
        context: ops.context,
        projection: options.projection,
        version: options.version,
        reason: options.reason ?? null,
        details,
      },
    }),
  );
  throw conflict(
    'REPLAY_HALTED',
    `version ${options.version} of ${options.projection} cannot apply an event (partition ${halted[0]?.partition} offset ${halted[0]?.halted?.offset}: ${halted[0]?.halted?.error}); the version is marked failed`,
    details,
  );
}

function sleepOrAbort(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise<void>((resolve) => setTimeout(resolve, ms));
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
