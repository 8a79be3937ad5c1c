/**
 * Operator actions on projection versions (issue 6), shared by the `tidemark` CLI and the admin API: list,
 * replay, diff, cutover (full or gradual), rollback, retire and the audit log. The control table is the
 * authority on versions and routes; the sinks' checkpoints are the authority on how far each version got; the
 * events log is the authority on what there is to apply. Every action is recorded in the audit log with who
 * (`actor`) and why (`reason`).
 */
import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { contextTopics, createKafka, GENESIS_EVENT_TYPE, PartitionReader } from '@tidemark/kafka';
import { elasticsearchTargetNames } from '@tidemark/projection-elasticsearch';
import type {
  AuditEntry,
  AuditRecord,
  CandidateMode,
  ProjectionCandidate,
  ProjectionControl,
  ProjectionDefinition,
  ProjectionRoute,
  ProjectionVersionRow,
  ProjectionVersionState,
  ShadowReport,
  Sink,
  StoreKind,
  WatermarkBus,
} from '@tidemark/projection-runtime';
import { createPostgresWatermarkBus, Projector } from '@tidemark/projection-runtime';
import type { EventEnvelope, EventRegistry } from '@tidemark/schemas';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { ProjectionCatalog } from '../catalog';
import type { HostedDeployment } from '../deployment';
import type { StoreEndpoints } from '../sinks';
import { openSink } from '../sinks';
import type { DiffResult, DiffSide, PairOutcome } from './diff-core';
import { comparePair, DiffTally } from './diff-core';
import { badRequest, conflict, control as controlCall, notFound, unavailable } from './errors';
import type { ReplayPartitionProgress, ReplayProgress } from './progress';
import { RateMeter } from './progress';
import { ThrottledSink } from './throttled-sink';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ProjectionOpsOptions {
  brokers: string[];
  stores: StoreEndpoints;
  /** P of the context's topics. */
  partitions: number;
  catalog: ProjectionCatalog;
  /** The caller's: not closed by close(). */
  control: ProjectionControl;
  logger: Logger;
  /** The deployment whose context is acted on. */
  deployment: HostedDeployment;
  /** The context acted on. */
  context: string;
  /** Replay: how often checkpoints and log ends are compared (default 500 ms). */
  pollIntervalMs?: number;
  /**
   * How long a cutover or rollback waits for the version to cover the active one's watermark as read when it
   * started (under live traffic both follow the log, so the follower is usually a few events behind at any
   * instant) before it refuses with CUTOVER_LAGGING (default 10000).
   */
  coverageWaitMs?: number;
  /** Replay: consumer group settings of the replaying projector. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Diff: how often a moving key is reloaded before it is reported as moving (default 5, 200 ms apart). */
  diffRetries?: number;
  diffRetryDelayMs?: number;
}

/** Who acts, and why: recorded in the audit log. */
export interface Actor {
  actor: string;
  reason?: string;
}

export interface PartitionWatermark {
  partition: number;
  /** The version's checkpoint (0 when the partition was never written). */
  watermark: number;
  /** The events topic's log end (last stable offset), null when the broker did not answer. */
  logEnd: number | null;
  lag: number | null;
}

export interface VersionStatus {
  version: number;
  store: StoreKind;
  /** From the control table; `unregistered` for a catalog version never replayed. */
  state: ProjectionVersionState | 'unregistered';
  active: boolean;
  /** The version `rollback` would return to. */
  previous: boolean;
  /** Set when this version is the gradual-cutover candidate. */
  candidate: ProjectionCandidate | null;
  /** Whether this deployment's code (the catalog) defines the version. */
  inCatalog: boolean;
  registeredAt: string | null;
  updatedAt: string | null;
  retireAfter: string | null;
  droppedAt: string | null;
  partitions: PartitionWatermark[];
  /** Sum of the partitions' lag (null when unknown). */
  lag: number | null;
  /** Why the watermarks could not be read (store not configured or unreachable). */
  error?: string;
}

export interface ProjectionStatus {
  context: string;
  projection: string;
  active: number | null;
  previous: number | null;
  candidate: ProjectionCandidate | null;
  versions: VersionStatus[];
  shadowReports: ShadowReport[];
}

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

export interface DiffOptions {
  projection: string;
  a: number;
  b: number;
  /** Differing keys listed in the result (default 10). */
  sample?: number;
}

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

export interface CoverageEntry {
  partition: number;
  /** Checkpoint of the active version. */
  active: number;
  /** Checkpoint of the version switched to. */
  target: number;
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
const DIFF_CHUNK = 1000;

/** The operator actions of one context. */
export class ProjectionOps {
  readonly context: string;
  private readonly reader: PartitionReader;
  private readonly sinks = new Map<string, Sink>();
  private bus: WatermarkBus | null = null;
  private readonly events: EventRegistry;
  private closed = false;

  constructor(private readonly options: ProjectionOpsOptions) {
    this.context = options.context;
    this.events = options.deployment.context(this.context).events;
    this.reader = PartitionReader.create(options.brokers, 'tidemark-ops-reader');
  }

  private get control(): ProjectionControl {
    return this.options.control;
  }

  private get topic(): string {
    return contextTopics(this.context).events;
  }

  private get partitions(): number {
    return this.options.partitions;
  }

  // ---- lookups -------------------------------------------------------------------------------------------

  private async rowsOf(projection: string): Promise<ProjectionVersionRow[]> {
    return (await controlCall(() => this.control.list())).filter(
      (row) => row.context === this.context && row.projection === projection,
    );
  }

  private knownProjection(projection: string, rows: readonly ProjectionVersionRow[]): void {
    if (rows.length > 0 || this.options.catalog.versions(this.context, projection).length > 0) return;
    throw notFound(
      'UNKNOWN_PROJECTION',
      `unknown projection '${projection}' in context '${this.context}' (known: ${this.options.catalog.names(this.context).join(', ')})`,
      { context: this.context, projection },
    );
  }

  /** The definition of a version: the catalog's, or (for reading its targets) another version's with its store. */
  private definitionOf(
    projection: string,
    version: number,
    rows: readonly ProjectionVersionRow[],
  ): ProjectionDefinition {
    const found = this.options.catalog.find(this.context, projection, version);
    if (found) return found;
    const row = rows.find((r) => r.version === version);
    const any = this.options.catalog.versions(this.context, projection).at(-1);
    if (row && any) return { ...any, version, store: row.store };
    this.knownProjection(projection, rows);
    throw notFound(
      'UNKNOWN_VERSION',
      `projection '${projection}' has no version ${version} (versions: ${this.versionsOf(projection, rows).join(', ') || 'none'})`,
      { context: this.context, projection, version },
    );
  }

  private versionsOf(projection: string, rows: readonly ProjectionVersionRow[]): number[] {
    const versions = new Set([
      ...this.options.catalog.versions(this.context, projection).map((d) => d.version),
      ...rows.map((r) => r.version),
    ]);
    return [...versions].sort((x, y) => x - y);
  }

  /** One cached sink per version (closed with the ops). */
  private sinkOf(definition: ProjectionDefinition): Sink {
    const id = `${definition.name}.v${definition.version}`;
    let sink = this.sinks.get(id);
    if (!sink) {
      try {
        sink = openSink(definition, this.options.stores, this.partitions);
      } catch (error) {
        throw unavailable('STORE_UNAVAILABLE', (error as Error).message, {
          projection: definition.name,
          version: definition.version,
          store: definition.store,
        });
      }
      this.sinks.set(id, sink);
    }
    return sink;
  }

  /** Checkpoints as a dense vector over the context's partitions (missing: 0). */
  private async checkpointsOf(sink: Sink): Promise<number[]> {
    const checkpoints = await sink.checkpoints();
    return Array.from({ length: this.partitions }, (_, p) => checkpoints.get(p) ?? 0);
  }

  /** The events topic's log end of every partition (read_committed). */
  private async logEnds(): Promise<number[]> {
    return Promise.all(
      Array.from({ length: this.partitions }, (_, p) => this.reader.endOffset(this.topic, p)),
    );
  }

  // ---- list ----------------------------------------------------------------------------------------------

  /** Every projection of the context with its versions, their states, watermarks and lag. */
  async list(): Promise<ProjectionStatus[]> {
    const [rows, routes] = await Promise.all([
      controlCall(() => this.control.list()),
      controlCall(() => this.control.routes()),
    ]);
    const ends = await this.logEnds().catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'log ends not readable');
      return null;
    });
    const names = [
      ...new Set([
        ...this.options.catalog.names(this.context),
        ...rows.filter((r) => r.context === this.context).map((r) => r.projection),
      ]),
    ].sort();
    const out: ProjectionStatus[] = [];
    for (const projection of names) {
      const own = rows.filter((r) => r.context === this.context && r.projection === projection);
      const route = routes.find((r) => r.context === this.context && r.projection === projection) ?? null;
      const versions: VersionStatus[] = [];
      for (const version of this.versionsOf(projection, own)) {
        versions.push(await this.versionStatus(projection, version, own, route, ends));
      }
      out.push({
        context: this.context,
        projection,
        active: route?.active ?? null,
        previous: route?.previous ?? null,
        candidate: route?.candidate ?? null,
        versions,
        shadowReports: await controlCall(() => this.control.shadowReports(this.context, projection)),
      });
    }
    return out;
  }

  private async versionStatus(
    projection: string,
    version: number,
    rows: readonly ProjectionVersionRow[],
    route: ProjectionRoute | null,
    ends: number[] | null,
  ): Promise<VersionStatus> {
    const row = rows.find((r) => r.version === version);
    const inCatalog = this.options.catalog.find(this.context, projection, version);
    const status: VersionStatus = {
      version,
      store: row?.store ?? inCatalog?.store ?? 'postgres',
      state: row?.state ?? 'unregistered',
      active: route?.active === version,
      previous: route?.previous === version,
      candidate: route?.candidate?.version === version ? route.candidate : null,
      inCatalog: inCatalog !== undefined,
      registeredAt: row?.registeredAt.toISOString() ?? null,
      updatedAt: row?.updatedAt.toISOString() ?? null,
      retireAfter: row?.retireAfter?.toISOString() ?? null,
      droppedAt: row?.droppedAt?.toISOString() ?? null,
      partitions: [],
      lag: null,
    };
    if (row?.droppedAt || !row) return status;
    try {
      const checkpoints = await this.checkpointsOf(this.sinkOf(this.definitionOf(projection, version, rows)));
      status.partitions = checkpoints.map((watermark, partition) => {
        const logEnd = ends?.[partition] ?? null;
        return {
          partition,
          watermark,
          logEnd,
          lag: logEnd === null ? null : Math.max(0, logEnd - watermark),
        };
      });
      status.lag = ends ? status.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0) : null;
    } catch (error) {
      status.error = (error as Error).message;
    }
    return status;
  }

  // ---- replay --------------------------------------------------------------------------------------------

  /**
   * Builds a version from offset 0 into its own targets while live traffic goes on, in this process, and sets
   * it live once every partition's checkpoint reached the log end read at the same poll. Rerunning after a crash
   * resumes from the sink's checkpoints (nothing is reset).
   */
  async replay(options: ReplayOptions): Promise<ReplayOutcome> {
    const { projection, version } = options;
    const definition = this.catalogDefinition(projection, version);
    const rows = await this.rowsOf(projection);
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
      context: this.context,
      projection,
      version,
      reason: options.reason ?? null,
      details: { store: definition.store, resumed: row !== undefined, previousState: row?.state ?? null },
    };
    if (row?.state === 'failed') {
      await controlCall(() =>
        this.control.setState(this.context, projection, version, 'building', { audit }),
      );
    } else {
      if (!row) {
        await controlCall(() =>
          this.control.register(
            { context: this.context, name: projection, version, store: definition.store },
            { state: 'building' },
          ),
        );
      }
      await controlCall(() => this.control.audit(audit));
    }
    options.onAccepted?.();

    const inner = openSink(definition, this.options.stores, this.partitions);
    const sink = options.maxEventsPerSecond ? new ThrottledSink(inner, options.maxEventsPerSecond) : inner;
    const logger = this.options.logger.child({ replay: `${projection}.v${version}` });
    let projector: Projector | null = null;
    const started = Date.now();
    try {
      await sink.prepare();
      const initial = await this.checkpointsOf(sink);
      const initialTotal = initial.reduce((a, b) => a + b, 0);
      projector = await Projector.start({
        brokers: this.options.brokers,
        definition,
        sink,
        events: this.events,
        bus: this.watermarkBus(),
        control: this.control,
        logger,
        metrics: new Registry(),
        // Not live yet: projector services leave it alone, and it records no side effects (no outbox).
        registerState: 'building',
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        // Small chunks keep a throttled replay smooth.
        ...(options.maxEventsPerSecond
          ? { maxBatchEvents: Math.max(1, Math.ceil(options.maxEventsPerSecond / 10)) }
          : {}),
      });
      logger.info({ initial }, 'replay started');
      const meter = new RateMeter();
      meter.sample(Date.now(), 0);
      const poll = this.options.pollIntervalMs ?? 500;
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
        const ends = await this.logEnds();
        const checkpoints = await this.checkpointsOf(sink);
        const now = Date.now();
        const total = checkpoints.reduce((a, b) => a + b, 0);
        const applied = Math.max(0, total - initialTotal);
        const rate = meter.sample(now, applied);
        const partitions: ReplayPartitionProgress[] = checkpoints.map((checkpoint, partition) => {
          const logEnd = ends[partition] ?? 0;
          return { partition, checkpoint, logEnd, lag: Math.max(0, logEnd - checkpoint) };
        });
        const lag = partitions.reduce((sum, p) => sum + p.lag, 0);
        progress = {
          appliedEvents: applied,
          checkpointTotal: total,
          logEndTotal: ends.reduce((a, b) => a + b, 0),
          eventsPerSecond: rate,
          lag,
          etaSeconds: lag === 0 ? 0 : rate > 0 ? lag / rate : null,
          elapsedSeconds: (now - started) / 1000,
          partitions,
        };
        options.onProgress?.(progress);
        if (target === null && lag <= Math.max(1_000, Math.ceil(progress.logEndTotal / 100))) target = ends;
        const reached = target;
        if (
          reached &&
          checkpoints.every((checkpoint, partition) => checkpoint >= (reached[partition] ?? 0))
        ) {
          break;
        }
        const halted = projector.status().filter((s) => s.halted !== null);
        if (halted.length > 0) await this.failReplay(options, halted);
        await sleepOrAbort(poll, options.signal);
      }
      const seconds = (Date.now() - started) / 1000;
      await controlCall(() =>
        this.control.setState(this.context, projection, version, 'live', {
          audit: {
            actor: options.actor,
            action: 'replay.complete',
            context: this.context,
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

  private async failReplay(
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
      this.control.setState(this.context, options.projection, options.version, 'failed', {
        audit: {
          actor: options.actor,
          action: 'replay.failed',
          context: this.context,
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

  /** A version the code can run (replay needs its apply function). */
  private catalogDefinition(projection: string, version: number): ProjectionDefinition {
    const found = this.options.catalog.find(this.context, projection, version);
    if (found) return found;
    const versions = this.options.catalog.versions(this.context, projection);
    if (versions.length === 0) {
      throw notFound(
        'UNKNOWN_PROJECTION',
        `unknown projection '${projection}' in context '${this.context}' (known: ${this.options.catalog.names(this.context).join(', ')})`,
        { context: this.context, projection },
      );
    }
    throw notFound(
      'UNKNOWN_VERSION',
      `projection '${projection}' has no version ${version} in this deployment's catalog (versions: ${versions.map((d) => d.version).join(', ')}); ship it in a catalog module (--catalog)`,
      { context: this.context, projection, version },
    );
  }

  private watermarkBus(): WatermarkBus {
    this.bus ??= createPostgresWatermarkBus({
      connectionString: this.options.stores.postgres,
      logger: this.options.logger,
    });
    return this.bus;
  }

  // ---- diff ----------------------------------------------------------------------------------------------

  /**
   * Compares two versions at a common watermark W (per partition the lower checkpoint). The keys compared are
   * those the log below W touches (read from the log: not every store can list its keys); a key is compared
   * only where both versions show it at the same log position, and reloaded a few times when one moved on.
   */
  async diff(options: DiffOptions): Promise<DiffResult> {
    const { projection, a, b } = options;
    const sampleSize = options.sample ?? 10;
    if (!Number.isInteger(sampleSize) || sampleSize < 0) {
      throw badRequest('INVALID_ARGUMENT', `sample must be a whole number >= 0 (got ${sampleSize})`);
    }
    const rows = await this.rowsOf(projection);
    const defA = this.definitionOf(projection, a, rows);
    const defB = this.definitionOf(projection, b, rows);
    for (const version of [a, b]) {
      const row = rows.find((r) => r.version === version);
      if (row?.droppedAt) {
        throw conflict('VERSION_DROPPED', `version ${version} of ${projection} was dropped`, {
          projection,
          version,
        });
      }
    }
    const sinkA = this.sinkOf(defA);
    const sinkB = this.sinkOf(defB);
    const [startA, startB] = await Promise.all([this.checkpointsOf(sinkA), this.checkpointsOf(sinkB)]);
    const watermark = startA.map((checkpoint, p) => Math.min(checkpoint, startB[p] ?? 0));
    const tally = new DiffTally(sampleSize);
    for (let partition = 0; partition < this.partitions; partition++) {
      const until = watermark[partition] ?? 0;
      if (until === 0) continue;
      const keys = [...(await this.keysBelow(partition, until, [defA, defB]))].sort();
      for (let i = 0; i < keys.length; i += DIFF_CHUNK) {
        await this.diffChunk(partition, keys.slice(i, i + DIFF_CHUNK), sinkA, sinkB, tally);
      }
    }
    return {
      context: this.context,
      projection,
      a,
      b,
      watermark: Object.fromEntries(watermark.map((w, p) => [String(p), w])),
      counts: tally.counts,
      compared: tally.compared,
      equal: tally.equal,
      differing: tally.differing,
      onlyInA: tally.onlyInA,
      onlyInB: tally.onlyInB,
      unknown: tally.unknown,
      moving: tally.moving,
      sample: tally.sample,
    };
  }

  private async diffChunk(
    partition: number,
    keys: string[],
    sinkA: Sink,
    sinkB: Sink,
    tally: DiffTally,
  ): Promise<void> {
    const retries = this.options.diffRetries ?? 5;
    let pending = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      // The checkpoints before the loads bound the positions each lookup stands for (diff-core positionRange).
      const [cpA, cpB] = await Promise.all([sinkA.checkpoints(), sinkB.checkpoints()]);
      const [loadedA, loadedB] = await Promise.all([
        sinkA.load(partition, pending),
        sinkB.load(partition, pending),
      ]);
      const moving: string[] = [];
      const last = attempt >= retries;
      for (const key of pending) {
        const sideA: DiffSide = { lookup: loadedA.get(key), checkpoint: cpA.get(partition) ?? 0 };
        const sideB: DiffSide = { lookup: loadedB.get(key), checkpoint: cpB.get(partition) ?? 0 };
        const outcome: PairOutcome = comparePair(sideA, sideB);
        if (outcome.kind === 'moving' && !last) moving.push(key);
        else tally.add(partition, key, sideA, sideB, outcome);
      }
      pending = moving;
      if (pending.length > 0) await sleep(this.options.diffRetryDelayMs ?? 200);
    }
  }

  /** The keys the events of `partition` below `until` touch, under any of the definitions. */
  private async keysBelow(
    partition: number,
    until: number,
    definitions: ProjectionDefinition[],
  ): Promise<Set<string>> {
    const keys = new Set<string>();
    const types = new Set(definitions.flatMap((d) => d.eventTypes));
    await this.reader.read(this.topic, partition, 0, until, (records) => {
      for (const record of records) {
        const type = record.headers.type;
        if (type === GENESIS_EVENT_TYPE || (type !== undefined && !types.has(type)) || !record.value)
          continue;
        let event: EventEnvelope;
        try {
          event = JSON.parse(record.value.toString('utf8')) as EventEnvelope;
          if (!types.has(event.type)) continue;
          if (this.events.has(event.type)) {
            event.payload = this.events.read(event.type, event.schemaVersion, event.payload);
            event.schemaVersion = this.events.latestVersion(event.type);
          }
        } catch {
          continue; // a poison record: the projectors dead-letter or halt on it; it names no key here
        }
        for (const definition of definitions) {
          if (!definition.eventTypes.includes(event.type)) continue;
          try {
            for (const key of definition.keys(event)) keys.add(key);
          } catch {
            // As above.
          }
        }
      }
    });
    return keys;
  }

  // ---- cutover / rollback --------------------------------------------------------------------------------

  /** Switches reads to `to` (full), or starts, changes or ends a gradual cutover (shadow, split, abort). */
  async cutover(options: CutoverOptions): Promise<CutoverOutcome> {
    const { projection } = options;
    const rows = await this.rowsOf(projection);
    this.knownProjection(projection, rows);
    const route = await this.routeOf(projection);
    const base = { actor: options.actor, context: this.context, projection, reason: options.reason ?? null };
    if (options.abort) {
      const candidate = route.candidate;
      await controlCall(() =>
        this.control.setCandidate(this.context, projection, null, {
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
    this.checkTarget(projection, to, rows, route);
    if (mode === 'shadow') {
      const candidate: ProjectionCandidate = { version: to, mode: 'shadow', percent: 100 };
      await controlCall(() =>
        this.control.setCandidate(this.context, projection, candidate, {
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
      const coverage = await this.coverage(
        projection,
        route.active,
        to,
        rows,
        options.force ?? false,
        options.waitMs,
      );
      const candidate: ProjectionCandidate = { version: to, mode: 'split', percent };
      await controlCall(() =>
        this.control.setCandidate(this.context, projection, candidate, {
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
    return this.switchTo(projection, 'cutover', route, to, rows, options);
  }

  /** Switches reads back to the version active before the last switch (same checks as a cutover). */
  async rollback(
    options: Actor & { projection: string; force?: boolean; waitMs?: number },
  ): Promise<CutoverOutcome> {
    const { projection } = options;
    const rows = await this.rowsOf(projection);
    this.knownProjection(projection, rows);
    const route = await this.routeOf(projection);
    if (route.previous === null) {
      throw conflict('NO_PREVIOUS_VERSION', `${projection} has no previous version to roll back to`, {
        projection,
        active: route.active,
      });
    }
    this.checkTarget(projection, route.previous, rows, route);
    return this.switchTo(projection, 'rollback', route, route.previous, rows, options);
  }

  private async routeOf(projection: string): Promise<ProjectionRoute> {
    const route = await controlCall(() => this.control.route(this.context, projection));
    if (!route) {
      throw conflict(
        'NO_ACTIVE_VERSION',
        `${projection} has no active version yet (no projector has run it)`,
        {
          projection,
        },
      );
    }
    return route;
  }

  /** The version switched to must exist, be live, and not be the active one. */
  private checkTarget(
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
  private async coverage(
    projection: string,
    from: number,
    to: number,
    rows: readonly ProjectionVersionRow[],
    force: boolean,
    waitMs?: number,
  ): Promise<{ forced: boolean; lagging: CoverageEntry[]; details: Record<string, unknown> }> {
    const targetSink = this.sinkOf(this.definitionOf(projection, to, rows));
    const [active, first] = await Promise.all([
      this.sinkOf(this.definitionOf(projection, from, rows)).checkpoints(),
      targetSink.checkpoints(),
    ]);
    let target = first;
    const covered = () => [...active].every(([p, offset]) => (target.get(p) ?? 0) >= offset);
    const deadline = Date.now() + (force ? 0 : (waitMs ?? this.options.coverageWaitMs ?? 10_000));
    while (!covered() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      target = await targetSink.checkpoints();
    }
    const partitions = new Set([
      ...Array.from({ length: this.partitions }, (_, p) => p),
      ...active.keys(),
      ...target.keys(),
    ]);
    const entries: CoverageEntry[] = [...partitions]
      .sort((x, y) => x - y)
      .map((partition) => ({
        partition,
        active: active.get(partition) ?? 0,
        target: target.get(partition) ?? 0,
      }));
    const lagging = entries.filter((e) => e.target < e.active);
    const watermarks = {
      from: Object.fromEntries(entries.map((e) => [String(e.partition), e.active])),
      to: Object.fromEntries(entries.map((e) => [String(e.partition), e.target])),
    };
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
      this.options.logger.warn(
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

  private async switchTo(
    projection: string,
    action: 'cutover' | 'rollback',
    route: ProjectionRoute,
    to: number,
    rows: readonly ProjectionVersionRow[],
    options: Actor & { force?: boolean; waitMs?: number },
  ): Promise<CutoverOutcome> {
    const from = route.active;
    const coverage = await this.coverage(projection, from, to, rows, options.force ?? false, options.waitMs);
    const target = this.definitionOf(projection, to, rows);
    const swap = target.store === 'elasticsearch' ? this.aliasSwap(projection, to) : null;
    try {
      await controlCall(() =>
        this.control.activate(this.context, projection, to, {
          expectedActive: from,
          audit: {
            actor: options.actor,
            action,
            context: this.context,
            projection,
            version: to,
            reason: options.reason ?? null,
            details: { from, to, ...coverage.details },
          },
          ...(swap ? { beforeCommit: () => swap.apply() } : {}),
        }),
      );
    } catch (error) {
      // The alias moved but the transaction did not commit: put it back.
      await swap
        ?.undo()
        .catch((undoError: unknown) =>
          this.options.logger.error(
            { err: undoError, projection },
            'alias not restored after a failed switch',
          ),
        );
      throw error;
    }
    this.options.logger.info(
      { projection, action, from, to, forced: coverage.forced },
      'active version switched',
    );
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

  /**
   * Moves the alias `tm-<ctx>-<name>` to version `to`'s index in ONE `POST /_aliases` (remove from whatever
   * holds it, add to the new index): atomic for every Elasticsearch reader. `undo` restores the holders.
   */
  private aliasSwap(projection: string, to: number): { apply(): Promise<void>; undo(): Promise<void> } {
    const node = this.options.stores.elasticsearch;
    if (!node)
      throw unavailable('STORE_UNAVAILABLE', `${projection} needs Elasticsearch, which is not configured`);
    const { alias, index } = elasticsearchTargetNames({
      context: this.context,
      name: projection,
      version: to,
    });
    let holders: string[] | null = null;
    const withClient = async (run: (client: ElasticsearchClient) => Promise<void>) => {
      const client = new ElasticsearchClient({ node });
      try {
        await run(client);
      } finally {
        await client.close();
      }
    };
    return {
      apply: () =>
        withClient(async (client) => {
          const current = (await client.indices.existsAlias({ name: alias }))
            ? Object.keys(await client.indices.getAlias({ name: alias }))
            : [];
          holders = current;
          const actions = [
            ...current.filter((held) => held !== index).map((held) => ({ remove: { index: held, alias } })),
            ...(current.includes(index) ? [] : [{ add: { index, alias } }]),
          ];
          if (actions.length > 0) await client.indices.updateAliases({ actions });
          this.options.logger.info({ alias, from: current, to: index }, 'alias moved');
        }),
      undo: async () => {
        const previous = holders;
        if (previous === null) return;
        await withClient(async (client) => {
          await client.indices.updateAliases({
            actions: [
              ...(previous.includes(index) ? [] : [{ remove: { index, alias } }]),
              ...previous.filter((held) => held !== index).map((held) => ({ add: { index: held, alias } })),
            ],
          });
        });
      },
    };
  }

  // ---- retire --------------------------------------------------------------------------------------------

  /**
   * Retires a version that is neither active nor the candidate: projector services stop it, and its targets
   * are dropped once the grace period ends (at once with a grace of 0).
   */
  async retire(options: RetireOptions): Promise<RetireOutcome> {
    const { projection, version } = options;
    const graceMs = options.graceMs ?? DEFAULT_RETIRE_GRACE_MS;
    if (!Number.isFinite(graceMs) || graceMs < 0) {
      throw badRequest('INVALID_ARGUMENT', `the grace period must be >= 0 (got ${graceMs} ms)`);
    }
    const rows = await this.rowsOf(projection);
    this.knownProjection(projection, rows);
    const row = rows.find((r) => r.version === version);
    if (!row) {
      throw notFound('UNKNOWN_VERSION', `${projection} has no registered version ${version}`, {
        projection,
        version,
      });
    }
    const route = await controlCall(() => this.control.route(this.context, projection));
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
      throw conflict(
        'VERSION_DROPPED',
        `version ${version} of ${projection} was already retired and dropped`,
        {
          projection,
          version,
          droppedAt: row.droppedAt.toISOString(),
        },
      );
    }
    const retireAfter = new Date(Date.now() + graceMs);
    await controlCall(() =>
      this.control.setState(this.context, projection, version, 'retired', {
        retireAfter,
        audit: {
          actor: options.actor,
          action: 'retire',
          context: this.context,
          projection,
          version,
          reason: options.reason ?? null,
          details: { graceMs, retireAfter: retireAfter.toISOString(), previousState: row.state },
        },
      }),
    );
    let dropped = false;
    if (graceMs === 0) {
      const sink = this.sinkOf(this.definitionOf(projection, version, rows));
      // Projector services stop the version on the control NOTIFY; wait until its checkpoints stand still, so
      // that no batch in flight writes into targets dropped under it.
      await this.waitUntilStill(sink);
      await sink.drop();
      await controlCall(() => this.control.markDropped(this.context, projection, version));
      await controlCall(() =>
        this.control.audit({
          actor: options.actor,
          action: 'retire.drop',
          context: this.context,
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
  private async waitUntilStill(sink: Sink): Promise<void> {
    const key = (m: Map<number, number>) => JSON.stringify([...m].sort((x, y) => x[0] - y[0]));
    let previous = key(await sink.checkpoints());
    for (let i = 0; i < 15; i++) {
      await sleep(1_000);
      const current = key(await sink.checkpoints());
      if (current === previous) return;
      previous = current;
    }
    this.options.logger.warn('the retired version is still being written to; dropping it anyway');
  }

  // ---- audit ---------------------------------------------------------------------------------------------

  /** The audit log of the context, newest first. */
  async audit(options: { limit?: number; projection?: string } = {}): Promise<AuditRecord[]> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw badRequest('INVALID_ARGUMENT', `limit must be between 1 and 10000 (got ${limit})`);
    }
    return controlCall(() =>
      this.control.auditLog({ context: this.context, projection: options.projection, limit }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sink of this.sinks.values()) await sink.close().catch(() => undefined);
    this.sinks.clear();
    await this.bus?.close().catch(() => undefined);
    this.reader.close();
  }
}

function sleepOrAbort(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms);
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

/** P of a context, from the broker's metadata of `<ctx>.events` (null when the topic does not exist yet). */
export async function partitionsOfContext(
  brokers: string[],
  context: string,
  logger: Logger,
): Promise<number | null> {
  const admin = createKafka({ brokers, clientId: 'tidemark-ops', logger }).admin();
  await admin.connect();
  try {
    const topic = contextTopics(context).events;
    if (!(await admin.listTopics()).includes(topic)) return null;
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = metadata.topics[0]?.partitions.length ?? 0;
    return count > 0 ? count : null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
