/**
 * The projector of one projection version: a member of consumer group `<ctx>.proj.<name>.v<N>` on
 * `<ctx>.events` (read_committed) that folds each partition batch onto the sink's documents and commits them
 * with the partition's checkpoint in one sink commit, then announces the new watermark.
 *
 * Positions come from the sink, not from Kafka: the sink's checkpoint is the next offset to apply. Kafka's
 * committed offsets are only a hint (and what lag tools read). Each batch is checked against the checkpoint
 * using the offset kafkajs fetched from: a batch that does not contain the checkpoint (a fresh group on an old
 * sink, a reset sink, or a batch fetched before a seek took effect) is dropped and the consumer is sought to
 * the checkpoint, so a kafkajs seek race can only cost a refetch, never skip or repeat an event.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ReadRecord } from '@tidemark/kafka';
import { createKafka, GENESIS_EVENT_TYPE, PartitionReader, runSupervised } from '@tidemark/kafka';
import type { EventRegistry } from '@tidemark/schemas';
import { EventEnvelope } from '@tidemark/schemas';
import type { Admin, Batch, Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type {
  DocumentWrite,
  Lookup,
  PositionedSideEffect,
  ProjectionControl,
  ProjectionDefinition,
  ProjectionDocument,
  ProjectionVersionState,
  SideEffectOutbox,
  Sink,
  StoredDocument,
  WatermarkBus,
} from './contracts';
import { projectionGroupId } from './contracts';
import type { DeadLetterRecord, ReplayResultRecord } from './dead-letters';
import { deadLetterTopic, ensureDeadLetterTopic, ParkedState, readDeadLetterPartition } from './dead-letters';
import type { FoldRecord, ParkedEvent } from './fold';
import { foldBatch, replayParked } from './fold';

export interface ProjectorOptions<D extends ProjectionDocument = ProjectionDocument> {
  brokers: string[];
  definition: ProjectionDefinition<D>;
  sink: Sink<D>;
  /** Upcasts stored payloads to the latest schema version. */
  events: EventRegistry;
  bus: WatermarkBus;
  /** When given, the version is registered on start. */
  control?: ProjectionControl;
  /** The state a new version is registered in (default: the control's, 'building'); a replay passes 'building'. */
  registerState?: ProjectionVersionState;
  /**
   * Where the side effects of a projection with `effects` are recorded: only while this version is the active
   * one (needs `control`). Without an outbox, effects are not computed.
   */
  outbox?: SideEffectOutbox;
  /** How often owned partitions are checked for effects still to record while active (default 5000 ms). */
  effectsCheckMs?: number;
  logger: Logger;
  /** Registry to add the projector's metrics to (one is created otherwise). */
  metrics?: Registry;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Events per sink load + commit at most (a fetched batch is split into chunks of this size). */
  maxBatchEvents?: number;
  /** Fetch sizes: large so that catching up reads big batches (defaults 16 MB per partition, 64 MB). */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** Dead-letter policy settings. */
  deadLetter?: {
    /** How often owned dead-letter partitions are checked for replay requests (default 1000 ms). */
    pollIntervalMs?: number;
    replicationFactor?: number;
  };
  /** How often the log end of halted partitions is refreshed for the lag metric (default 5000 ms). */
  lagRefreshMs?: number;
  instanceId?: string;
  /** Documents per partition kept from this projector's own writes, to skip loading them (default 20,000). */
  writtenDocumentsPerPartition?: number;
  /**
   * Commit a batch to the store while kafkajs fetches and decodes the next ones (default true). Off, every batch
   * is committed before kafkajs fetches again.
   */
  pipelined?: boolean;
}

/** How often a partition's Kafka offset (a hint; the sink's checkpoint is the authority) is committed at most. */
const OFFSET_HINT_INTERVAL_MS = 5_000;

interface PartitionState<D extends ProjectionDocument> {
  generation: number;
  /** Next offset to apply: the sink's checkpoint as this projector last read or wrote it. */
  checkpoint: number;
  /** kafkajs's fetch position is known to follow ours (we processed or sought in this generation). */
  continuous: boolean;
  /** A seek we asked for and have not seen a batch from yet. */
  sought: number | null;
  parked: ParkedState;
  /** Next dead-letter partition offset to read. */
  deadLetterTail: number;
  /**
   * Documents this projector wrote to the partition in this generation. It is the partition's only writer
   * meanwhile, so they equal the store's and need no load (a catch-up touches each aggregate several times;
   * a live event usually follows a recent one). Bounded; dropped with the generation or after a failed commit.
   */
  written: Map<string, StoredDocument<D>>;
  /**
   * Side effects: the outbox's progress of the partition as last read or written by this projector (the outbox
   * only moves it forward, so the real one is at least this); null until loaded while active.
   */
  effectsProgress: number | null;
  /**
   * The progress this projector last wrote to (or read from) the outbox. A chunk without effects moves only
   * effectsProgress (saving a Postgres round trip per chunk); the periodic check writes it. A lagging stored
   * progress only makes the next catch-up re-read more of the log: its effects are recorded already and ignored.
   */
  effectsPersisted: number;
}

export interface PartitionStatus {
  partition: number;
  watermark: number;
  logEnd: number | null;
  lag: number | null;
  owned: boolean;
  halted: { offset: number; error: string } | null;
  parkedKeys: number;
}

interface Metrics {
  lag: Gauge<'context' | 'projection' | 'version' | 'partition'>;
  watermark: Gauge<'context' | 'projection' | 'version' | 'partition'>;
  applied: Counter<'context' | 'projection' | 'version' | 'partition'>;
  batches: Counter<'context' | 'projection' | 'version' | 'partition'>;
  batchSeconds: Histogram<'context' | 'projection' | 'version' | 'partition'>;
  commitFailures: Counter<'context' | 'projection' | 'version' | 'partition'>;
  deadLetters: Counter<'context' | 'projection' | 'version' | 'partition'>;
  halted: Gauge<'context' | 'projection' | 'version' | 'partition'>;
}

/** Metrics are shared by the projectors of one registry (several versions run side by side). */
function sharedMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

function createMetrics(registry: Registry): Metrics {
  const labelNames = ['context', 'projection', 'version', 'partition'] as const;
  return {
    lag: sharedMetric(
      registry,
      'tidemark_projection_lag_events',
      () =>
        new Gauge({
          name: 'tidemark_projection_lag_events',
          help: 'Log end offset minus the watermark, per partition (grows while a partition is halted)',
          labelNames,
          registers: [registry],
        }),
    ),
    watermark: sharedMetric(
      registry,
      'tidemark_projection_watermark',
      () =>
        new Gauge({
          name: 'tidemark_projection_watermark',
          help: 'Next offset not applied, per partition',
          labelNames,
          registers: [registry],
        }),
    ),
    applied: sharedMetric(
      registry,
      'tidemark_projection_events_applied_total',
      () =>
        new Counter({
          name: 'tidemark_projection_events_applied_total',
          help: 'Events applied to the view',
          labelNames,
          registers: [registry],
        }),
    ),
    batches: sharedMetric(
      registry,
      'tidemark_projection_batches_total',
      () =>
        new Counter({
          name: 'tidemark_projection_batches_total',
          help: 'Sink commits (one per chunk of a fetched batch)',
          labelNames,
          registers: [registry],
        }),
    ),
    batchSeconds: sharedMetric(
      registry,
      'tidemark_projection_batch_duration_seconds',
      () =>
        new Histogram({
          name: 'tidemark_projection_batch_duration_seconds',
          help: 'Decode, load, fold, commit and publish of one chunk',
          labelNames,
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
    commitFailures: sharedMetric(
      registry,
      'tidemark_projection_commit_failures_total',
      () =>
        new Counter({
          name: 'tidemark_projection_commit_failures_total',
          help: 'Pipelined store commits that failed (the partition resumes from the sink checkpoint)',
          labelNames,
          registers: [registry],
        }),
    ),
    deadLetters: sharedMetric(
      registry,
      'tidemark_projection_dead_letters_total',
      () =>
        new Counter({
          name: 'tidemark_projection_dead_letters_total',
          help: 'Events (or parts of events, per key) dead-lettered',
          labelNames,
          registers: [registry],
        }),
    ),
    halted: sharedMetric(
      registry,
      'tidemark_projection_partition_halted',
      () =>
        new Gauge({
          name: 'tidemark_projection_partition_halted',
          help: '1 while a partition is halted by a poison event (stop policy)',
          labelNames,
          registers: [registry],
        }),
    ),
  };
}

/** A dead letter's copy of the event: the parsed JSON when it decoded, else its text as it was in the log. */
function recordedEvent(value: Buffer | null | undefined, decoded: boolean): unknown {
  if (!value) return null;
  const text = value.toString('utf8');
  return decoded ? (JSON.parse(text) as unknown) : text;
}

function looksLikeEnvelope(value: unknown): value is EventEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const aggregate = v.aggregate as Record<string, unknown> | null | undefined;
  return (
    typeof v.id === 'string' &&
    typeof v.type === 'string' &&
    v.type.length > 0 &&
    Number.isInteger(v.schemaVersion) &&
    (v.schemaVersion as number) > 0 &&
    typeof aggregate === 'object' &&
    aggregate !== null &&
    typeof aggregate.type === 'string' &&
    typeof aggregate.id === 'string' &&
    aggregate.id.length > 0 &&
    Number.isInteger(v.version) &&
    (v.version as number) > 0 &&
    typeof v.commandId === 'string' &&
    typeof v.correlationId === 'string' &&
    typeof v.causationId === 'string' &&
    typeof v.occurredAt === 'string' &&
    'payload' in v
  );
}

function headerString(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export class Projector<D extends ProjectionDocument = ProjectionDocument> {
  readonly registry: Registry;
  readonly groupId: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly definition: ProjectionDefinition<D>;
  private readonly sink: Sink<D>;
  private readonly eventTypes: Set<string>;
  private readonly metrics: Metrics;
  private readonly states = new Map<number, PartitionState<D>>();
  private readonly hintCommittedAt = new Map<number, number>();
  private readonly locks = new Map<number, Promise<unknown>>();
  private readonly watermarks = new Map<number, number>();
  private readonly logEnds = new Map<number, number>();
  private readonly halted = new Map<number, { offset: number; error: string }>();
  private readonly emitter = new EventEmitter();
  private owned = new Set<number>();
  private generation = 0;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  /** Side effects are recorded (the definition has effects and an outbox is given). */
  private readonly effectsEnabled: boolean;
  /** This version is the active one, as last read from the control table. */
  private active = false;
  private activeRefresh: Promise<void> = Promise.resolve();
  private unsubscribeControl: (() => Promise<void>) | null = null;

  private constructor(
    private readonly options: ProjectorOptions<D>,
    private readonly admin: Admin,
    private readonly consumer: Consumer,
    private readonly producer: Producer | null,
    private readonly reader: PartitionReader,
    readonly partitionCount: number,
    private readonly logger: Logger,
  ) {
    this.definition = options.definition;
    this.sink = options.sink;
    this.groupId = projectionGroupId(options.definition);
    this.topic = `${options.definition.context}.events`;
    this.deadLetterTopic = deadLetterTopic(options.definition);
    this.eventTypes = new Set(options.definition.eventTypes);
    this.registry = options.metrics ?? new Registry();
    this.metrics = createMetrics(this.registry);
    this.emitter.setMaxListeners(0);
    this.effectsEnabled = Boolean(options.definition.effects && options.outbox);
  }

  static async start<D extends ProjectionDocument>(options: ProjectorOptions<D>): Promise<Projector<D>> {
    const { definition } = options;
    if (definition.effects && options.outbox && !options.control) {
      // Only the active version may record effects, and only the control table knows which one that is.
      throw new Error(`projector ${projectionGroupId(definition)}: recording side effects needs a control`);
    }
    const instanceId = options.instanceId ?? randomUUID().slice(0, 8);
    const groupId = projectionGroupId(definition);
    const logger = options.logger.child({ component: 'projector', projection: groupId, instanceId });
    const kafka = createKafka({
      brokers: options.brokers,
      clientId: `tidemark-projector-${instanceId}`,
      logger,
    });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `${definition.context}.events`;
    let partitionCount: number;
    let producer: Producer | null = null;
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      partitionCount = metadata.topics[0]?.partitions.length ?? 0;
      if (partitionCount === 0) throw new Error(`${topic} has no partitions`);
      if (definition.failurePolicy === 'dead-letter') {
        await ensureDeadLetterTopic(
          admin,
          deadLetterTopic(definition),
          partitionCount,
          options.deadLetter?.replicationFactor,
        );
        producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
      }
      await options.sink.prepare();
      await options.control?.register(
        {
          context: definition.context,
          name: definition.name,
          version: definition.version,
          store: options.sink.store,
        },
        options.registerState ? { state: options.registerState } : undefined,
      );
    } catch (error) {
      await producer?.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
    // Longer than the processor's: a process catching up on several projections can keep its event loop busy
    // (decoding big fetches, folding) long enough that a 10 s session expires and the group rebalances over and
    // over while nothing is applied (seen with four projections over a 1M-event log).
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout,
      rebalanceTimeout: sessionTimeout * 2,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 16 * 1024 * 1024,
      maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
      readUncommitted: false,
      allowAutoTopicCreation: false,
    });
    const reader = PartitionReader.create(options.brokers, `tidemark-projector-${instanceId}-reader`);
    const projector = new Projector(options, admin, consumer, producer, reader, partitionCount, logger);
    for (const [partition, checkpoint] of await options.sink.checkpoints()) {
      projector.setWatermark(partition, checkpoint);
    }
    try {
      await projector.watchActive();
    } catch (error) {
      await producer?.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      reader.close();
      throw error;
    }
    await projector.run();
    logger.info({ partitions: partitionCount, policy: definition.failurePolicy }, 'projector started');
    return projector;
  }

  private get pipelined(): boolean {
    return this.options.pipelined ?? true;
  }

  private get labels() {
    return {
      context: this.definition.context,
      projection: this.definition.name,
      version: String(this.definition.version),
    };
  }

  private partitionLabels(partition: number) {
    return { ...this.labels, partition: String(partition) };
  }

  private async run(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
        this.generation++;
        const assigned = event.payload.memberAssignment[this.topic] ?? [];
        this.owned = new Set(assigned);
        for (const partition of [...this.halted.keys()]) {
          if (!this.owned.has(partition)) this.setHalted(partition, null);
        }
        this.logger.info({ generation: this.generation, assigned }, 'partitions assigned');
        // A previous owner may have applied events while this version was not yet known to be active.
        if (this.effectsEnabled && this.active) this.catchUpEffectsOfOwned();
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await runSupervised(
      this.consumer,
      {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.partitionCount,
        eachBatch: (payload) => this.onBatch(payload),
      },
      { logger: this.logger, isClosed: () => this.stopped },
    );
    await joined;
    if (this.producer) {
      const interval = this.options.deadLetter?.pollIntervalMs ?? 1000;
      this.timers.push(setInterval(() => void this.pollDeadLetters(), interval));
    }
    this.timers.push(setInterval(() => void this.refreshHaltedLogEnds(), this.options.lagRefreshMs ?? 5000));
    if (this.effectsEnabled) {
      // A catch-up that failed (Postgres briefly away) is retried even if no new events arrive.
      this.timers.push(
        setInterval(() => {
          this.catchUpEffectsOfOwned();
          void this.flushEffectsProgress();
        }, this.options.effectsCheckMs ?? 5000),
      );
    }
  }

  /** Reads whether this version is active now, and follows every control change from here on. */
  private async watchActive(): Promise<void> {
    const control = this.options.control;
    if (!this.effectsEnabled || !control) return;
    // Subscribe first, so that no switch between the read and the subscription goes unnoticed.
    this.unsubscribeControl = await control.subscribe(() => {
      this.activeRefresh = this.activeRefresh.then(() => this.refreshActive());
    });
    await this.refreshActive(true);
  }

  private async refreshActive(throwOnError = false): Promise<void> {
    if (this.stopped || !this.options.control) return;
    let active: boolean;
    try {
      const version = await this.options.control.activeVersion(this.definition.context, this.definition.name);
      active = version === this.definition.version;
    } catch (error) {
      if (throwOnError) throw error;
      // Stay as we were: the control listener calls again after a reconnect.
      this.logger.warn({ err: error }, 'active version not read; side-effect state unchanged');
      return;
    }
    if (active === this.active) return;
    this.active = active;
    this.logger.info(
      { active },
      active ? 'version is active: recording side effects' : 'version is no longer active',
    );
    if (!active) return;
    // Another version moved the outbox's progress meanwhile: reload it, then record what we applied beyond it.
    for (const state of this.states.values()) state.effectsProgress = null;
    this.catchUpEffectsOfOwned();
  }

  /** For each owned partition, under its lock: records the effects this version applied and nobody recorded. */
  private catchUpEffectsOfOwned(): void {
    if (!this.effectsEnabled || !this.active || this.stopped) return;
    for (const partition of this.owned) {
      const known = this.states.get(partition);
      if (
        known &&
        known.generation === this.generation &&
        known.effectsProgress !== null &&
        known.effectsProgress >= known.checkpoint
      ) {
        continue;
      }
      void this.withLock(partition, async () => {
        if (this.stopped || !this.active || !this.owned.has(partition)) return;
        await this.catchUpEffects(partition, await this.stateOf(partition));
      }).catch((error: unknown) =>
        this.logger.warn({ err: error, partition }, 'side-effect catch-up failed; retrying later'),
      );
    }
  }

  /**
   * Records the effects of the partition's events in [outbox progress, checkpoint), read back from the log:
   * events this version applied while another version was active (or before it knew it was active). Runs under
   * the partition lock, so it never interleaves with a chunk commit.
   */
  private async catchUpEffects(partition: number, state: PartitionState<D>): Promise<void> {
    const outbox = this.options.outbox;
    if (!outbox || !this.active) return;
    if (state.effectsProgress === null) {
      const progress = await outbox.progress(this.definition.context, this.definition.name);
      state.effectsProgress = progress.get(partition) ?? 0;
      state.effectsPersisted = state.effectsProgress;
    }
    const from = state.effectsProgress;
    const to = state.checkpoint;
    if (from >= to) return;
    let recorded = 0;
    await this.reader.read(this.topic, partition, from, to, async (batch) => {
      const effects: PositionedSideEffect[] = [];
      for (const record of batch) {
        const event = this.decodeForEffects(record);
        if (event) effects.push(...this.effectsOf(partition, record.offset, event));
      }
      const last = batch.at(-1)?.offset;
      if (last === undefined) return;
      recorded += await outbox.record(this.definition, partition, effects, last + 1);
      state.effectsProgress = Math.max(state.effectsProgress ?? 0, last + 1);
      state.effectsPersisted = Math.max(state.effectsPersisted, last + 1);
    });
    recorded += await outbox.record(this.definition, partition, [], to);
    state.effectsProgress = Math.max(state.effectsProgress ?? 0, to);
    state.effectsPersisted = Math.max(state.effectsPersisted, to);
    this.logger.info({ partition, from, to, recorded }, 'side effects of earlier events recorded');
  }

  /** An event read back from the log, decoded as the consumer path does; null when it has no effects. */
  private decodeForEffects(record: ReadRecord): EventEnvelope | null {
    const headerType = record.headers.type;
    if (headerType === GENESIS_EVENT_TYPE) return null;
    if (headerType !== undefined && !this.eventTypes.has(headerType)) return null;
    try {
      const envelope = this.decodeValue(record.value);
      return this.eventTypes.has(envelope.type) ? envelope : null;
    } catch {
      return null; // undecodable: no effects (the fold dead-letters or halts on it)
    }
  }

  /** The definition's effects of one event; a throwing `effects` loses that event's effects, loudly. */
  private effectsOf(partition: number, offset: number, event: EventEnvelope): PositionedSideEffect[] {
    const effects = this.definition.effects;
    if (!effects) return [];
    try {
      return effects(event).map((effect) => ({ partition, offset, effect }));
    } catch (error) {
      this.logger.error({ err: error, partition, offset, type: event.type }, 'effects of an event failed');
      return [];
    }
  }

  /** Runs `task` after every earlier task of the partition (batches and replays never interleave). */
  private withLock<T>(partition: number, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(partition) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.locks.set(partition, settled);
    void settled.then(() => {
      if (this.locks.get(partition) === settled) this.locks.delete(partition);
    });
    return next;
  }

  /** The partition's state for the current generation: reloaded from the sink and dead-letter log on takeover. */
  private async stateOf(partition: number): Promise<PartitionState<D>> {
    const existing = this.states.get(partition);
    if (existing && existing.generation === this.generation) return existing;
    const generation = this.generation;
    const checkpoints = await this.sink.checkpoints();
    const checkpoint = checkpoints.get(partition) ?? 0;
    const state: PartitionState<D> = {
      generation,
      checkpoint,
      continuous: false,
      sought: null,
      parked: new ParkedState(),
      written: new Map(),
      deadLetterTail: 0,
      effectsProgress: null,
      effectsPersisted: 0,
    };
    if (this.producer) await this.syncDeadLetters(partition, state);
    this.states.set(partition, state);
    this.setWatermark(partition, checkpoint);
    this.logger.info(
      { partition, generation, checkpoint, parkedKeys: state.parked.parkedKeys().size },
      'partition state loaded from the sink',
    );
    return state;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.stopped) return;
    // kafkajs only heartbeats between batches; a big catch-up batch (load + commit of thousands of documents)
    // can outlast the session timeout, so keep the membership alive while it runs (kafkajs throttles these).
    const keepAlive = setInterval(
      () => void payload.heartbeat().catch(() => undefined),
      this.options.heartbeatIntervalMs ?? 1_000,
    );
    try {
      await this.withLock(batch.partition, () => this.processBatch(payload));
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async processBatch({
    batch,
    resolveOffset,
    heartbeat,
    isStale,
    commitOffsetsIfNecessary,
  }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    if (this.stopped || isStale() || this.halted.has(partition)) return;
    const state = await this.stateOf(partition);
    this.setLogEnd(partition, Number(batch.highWatermark));
    const last = Number(batch.lastOffset());
    // kafkajs keeps the offset it fetched from on the batch (not in its typings).
    const fetchedOffset = Number(
      (batch as Batch & { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? last,
    );
    if (state.sought !== null && fetchedOffset === state.sought) state.sought = null;
    const expected = state.checkpoint;
    const containsCheckpoint = fetchedOffset <= expected && expected <= last + 1;
    // Ahead of the checkpoint is fine only while kafkajs's position is ours: then the skipped offsets were
    // control records or aborted data kafkajs resolved by itself.
    const benignGap = fetchedOffset > expected && state.continuous && state.sought === null;
    if (!containsCheckpoint && !benignGap) {
      if (state.sought !== expected || !isStale()) {
        this.logger.info(
          { partition, fetchedOffset, checkpoint: expected },
          'seeking to the sink checkpoint',
        );
        state.sought = expected;
        state.continuous = true;
        this.consumer.seek({ topic: this.topic, partition, offset: String(expected) });
      }
      return;
    }
    state.continuous = true;
    const messages = batch.messages;
    let start = 0;
    while (start < messages.length && Number(messages[start]?.offset) < expected) start++;
    const max = this.options.maxBatchEvents ?? 20_000;
    let committed = expected;
    if (start >= messages.length) {
      // Nothing to apply (control records only past the checkpoint): still move the checkpoint.
      if (last + 1 > expected) committed = await this.processChunk(partition, state, [], last + 1);
    } else {
      for (let from = start; from < messages.length; from += max) {
        if (isStale()) break;
        const chunk = messages.slice(from, from + max);
        const isLast = from + max >= messages.length;
        const checkpoint = isLast ? last + 1 : Number(chunk.at(-1)?.offset) + 1;
        // Only a batch's last chunk is pipelined: earlier chunks' commits come before it anyway.
        committed = await this.processChunk(partition, state, chunk, checkpoint, isLast && this.pipelined);
        if (this.halted.has(partition)) break;
        await heartbeat();
      }
    }
    if (committed > expected) {
      resolveOffset(String(committed - 1));
      // Kafka's committed offset is only a hint (lag tools, a faster restart); the sink stays the authority. So
      // it is sent at most every few seconds per partition, not after every batch (a broker round trip each).
      const now = Date.now();
      if (now - (this.hintCommittedAt.get(partition) ?? 0) < OFFSET_HINT_INTERVAL_MS) return;
      this.hintCommittedAt.set(partition, now);
      await commitOffsetsIfNecessary({
        topics: [{ topic: this.topic, partitions: [{ partition, offset: String(committed) }] }],
      }).catch((error: unknown) =>
        this.logger.debug({ err: error, partition }, 'offset commit failed (hint only)'),
      );
    }
  }

  private decodeValue(value: Buffer | null): EventEnvelope {
    if (!value) throw new Error('record has no value');
    const raw = JSON.parse(value.toString('utf8')) as unknown;
    // zod on every envelope costs more than the JSON parse while catching up; a structural check covers what
    // the fold relies on, and zod runs (for its precise error) only when that check fails. The parsed object is
    // this call's own, so it becomes the envelope without a copy (a dead letter re-reads the record's bytes).
    const envelope = looksLikeEnvelope(raw) ? raw : EventEnvelope.parse(raw);
    envelope.payload = this.options.events.read(envelope.type, envelope.schemaVersion, envelope.payload);
    // The payload is now in the latest schema version; the envelope says so, for the projection.
    envelope.schemaVersion = this.options.events.latestVersion(envelope.type);
    return envelope;
  }

  /** Folds one chunk and commits it with `checkpoint`; returns the checkpoint reached. */
  private async processChunk(
    partition: number,
    state: PartitionState<D>,
    messages: KafkaMessage[],
    checkpoint: number,
    defer = false,
  ): Promise<number> {
    const started = process.hrtime.bigint();
    const records: FoldRecord[] = [];
    // The bytes of records that did not decode (a dead letter carries the event as it was in the log; those of
    // decoded events are looked up in `messages` only when there are dead letters).
    const undecodable = new Map<number, Buffer | null>();
    const keys = new Set<string>();
    for (const message of messages) {
      const headerType = headerString(message, 'type');
      if (headerType === GENESIS_EVENT_TYPE) continue;
      if (headerType !== undefined && !this.eventTypes.has(headerType)) continue;
      const offset = Number(message.offset);
      try {
        const envelope = this.decodeValue(message.value);
        if (!this.eventTypes.has(envelope.type)) continue;
        records.push({ offset, type: envelope.type, event: envelope });
        try {
          for (const key of this.definition.keys(envelope)) keys.add(key);
        } catch {
          // foldBatch reports it as a poison event.
        }
      } catch (error) {
        records.push({
          offset,
          type: headerType ?? 'unknown',
          error: error instanceof Error ? error : new Error(String(error)),
        });
        undecodable.set(offset, message.value);
      }
    }
    const decoded = process.hrtime.bigint();
    const loaded = await this.loadDocuments(partition, state, keys);
    const loadedAt = process.hrtime.bigint();
    const result = foldBatch(this.definition, records, loaded, state.parked.parkedKeys());
    const folded = process.hrtime.bigint();
    const labels = this.partitionLabels(partition);
    if (result.deadLetters.length > 0 && this.producer) {
      const at = new Date().toISOString();
      const logged = new Map(messages.map((m) => [Number(m.offset), m.value]));
      await this.producer.send({
        topic: this.deadLetterTopic,
        acks: -1,
        messages: result.deadLetters.map((d) => {
          const record: DeadLetterRecord = {
            kind: 'dead-letter',
            partition,
            offset: d.offset,
            type: d.type,
            keys: d.keys,
            error: d.error,
            ...(d.parkedBehind !== undefined ? { parkedBehind: d.parkedBehind } : {}),
            at,
            event: undecodable.has(d.offset)
              ? recordedEvent(undecodable.get(d.offset), false)
              : recordedEvent(logged.get(d.offset), true),
          };
          return { partition, key: `${partition}:${d.offset}`, value: JSON.stringify(record) };
        }),
      });
      // Read them back in log order (with anything else appended meanwhile) to update the parked keys.
      await this.syncDeadLetters(partition, state);
      this.metrics.deadLetters.inc(labels, result.deadLetters.length);
      for (const d of result.deadLetters) {
        const log = d.parkedBehind === undefined ? this.logger.error : this.logger.warn;
        log.call(
          this.logger,
          { partition, offset: d.offset, type: d.type, keys: d.keys, error: d.error },
          d.parkedBehind === undefined ? 'event dead-lettered' : 'event parked behind a dead letter',
        );
      }
    }
    const reached = result.halt ? result.halt.offset : checkpoint;
    const finish = () =>
      this.finishChunk(partition, state, records, result, reached, messages.length, {
        started,
        decoded,
        loadedAt,
        folded,
      });
    if (!defer || result.halt || result.deadLetters.length > 0) {
      await finish();
      return state.checkpoint;
    }
    // Pipelined: the store commit runs after this batch returns (next in the partition's lock, so nothing of the
    // partition overtakes it), and kafkajs fetches and decodes the next batches meanwhile instead of waiting for
    // Postgres. The watermark moves only once the commit is durable. A failed commit drops the partition's state:
    // the next batch reloads the checkpoint from the sink and seeks back to it.
    void this.withLock(partition, async () => {
      if (this.states.get(partition) !== state) return; // a newer generation reloaded the state meanwhile
      try {
        await finish();
      } catch (error) {
        if (this.states.get(partition) === state) this.states.delete(partition);
        this.metrics.commitFailures.inc(this.partitionLabels(partition));
        this.logger.error(
          { err: error, partition },
          'store commit failed; resuming from the sink checkpoint',
        );
      }
    });
    return reached;
  }

  /** Records the chunk's side effects, commits its documents and checkpoint, then publishes the watermark. */
  private async finishChunk(
    partition: number,
    state: PartitionState<D>,
    records: readonly FoldRecord[],
    result: ReturnType<typeof foldBatch<D>>,
    reached: number,
    events: number,
    times: { started: bigint; decoded: bigint; loadedAt: bigint; folded: bigint },
  ): Promise<void> {
    const { started, decoded, loadedAt, folded } = times;
    const labels = this.partitionLabels(partition);
    const committing = process.hrtime.bigint();
    const advanced = reached > state.checkpoint;
    if (this.effectsEnabled && this.active && advanced) {
      // Before the sink commit: a crash in between re-applies the chunk, and the outbox ignores repeats.
      await this.recordChunkEffects(partition, state, records, reached);
    }
    if (advanced || result.writes.length > 0) {
      await this.commitDocuments(partition, state, result.writes, Math.max(reached, state.checkpoint));
    }
    const committedAt = process.hrtime.bigint();
    if (advanced) {
      state.checkpoint = reached;
      this.setWatermark(partition, reached);
    }
    if (advanced && !this.sink.publishesWatermark) {
      await this.options.bus
        .publish([
          {
            context: this.definition.context,
            projection: this.definition.name,
            version: this.definition.version,
            partition,
            offset: reached,
          },
        ])
        .catch((error: unknown) =>
          // The bus only wakes readers; the sink's checkpoint is what they reload.
          this.logger.warn({ err: error, partition }, 'watermark publish failed'),
        );
    }
    if (result.halt) {
      const error = result.halt.error.message;
      this.setHalted(partition, { offset: result.halt.offset, error });
      this.consumer.pause([{ topic: this.topic, partitions: [partition] }]);
      this.logger.error(
        { partition, offset: result.halt.offset, type: result.halt.type, err: result.halt.error },
        'poison event: partition halted (stop policy)',
      );
    }
    this.metrics.applied.inc(labels, result.applied);
    this.metrics.batches.inc(labels);
    const ended = process.hrtime.bigint();
    this.metrics.batchSeconds.observe(labels, Number(ended - started) / 1e9);
    const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;
    this.logger.debug(
      {
        partition,
        events,
        applied: result.applied,
        writes: result.writes.length,
        checkpoint: state.checkpoint,
        decodeMs: ms(started, decoded),
        loadMs: ms(decoded, loadedAt),
        foldMs: ms(loadedAt, folded),
        waitMs: ms(folded, committing),
        commitMs: ms(committing, committedAt),
        publishMs: ms(committedAt, ended),
      },
      'batch committed',
    );
  }

  /** Records the effects of the chunk's events below `reached` that the outbox does not have yet. */
  private async recordChunkEffects(
    partition: number,
    state: PartitionState<D>,
    records: readonly FoldRecord[],
    reached: number,
  ): Promise<void> {
    const outbox = this.options.outbox;
    if (!outbox) return;
    // Fills a gap first (a switch not yet caught up); afterwards the progress is at least the chunk's start.
    await this.catchUpEffects(partition, state);
    const from = state.effectsProgress ?? 0;
    if (reached <= from) return;
    const effects: PositionedSideEffect[] = [];
    for (const record of records) {
      if (record.event && record.offset >= from && record.offset < reached) {
        effects.push(...this.effectsOf(partition, record.offset, record.event));
      }
    }
    if (effects.length > 0) {
      await outbox.record(this.definition, partition, effects, reached);
      state.effectsPersisted = reached;
    }
    state.effectsProgress = reached;
  }

  /** Writes the outbox progress that chunks without effects moved only in memory. */
  private async flushEffectsProgress(): Promise<void> {
    const outbox = this.options.outbox;
    if (!outbox) return;
    for (const [partition, state] of this.states) {
      const progress = state.effectsProgress;
      if (progress === null || progress <= state.effectsPersisted) continue;
      await this.withLock(partition, async () => {
        await outbox.record(this.definition, partition, [], progress);
        state.effectsPersisted = Math.max(state.effectsPersisted, progress);
      }).catch((error: unknown) =>
        this.logger.debug({ err: error, partition }, 'side-effect progress not written; retrying later'),
      );
    }
  }

  /** The stored state of `keys`: this projector's own recent writes, the rest in one sink load. */
  private async loadDocuments(
    partition: number,
    state: PartitionState<D>,
    keys: Iterable<string>,
  ): Promise<Map<string, Lookup<D>>> {
    const loaded = new Map<string, Lookup<D>>();
    const missing: string[] = [];
    for (const key of keys) {
      const written = state.written.get(key);
      if (written) loaded.set(key, written);
      else missing.push(key);
    }
    if (missing.length > 0) {
      for (const [key, lookup] of await this.sink.load(partition, missing)) loaded.set(key, lookup);
    }
    return loaded;
  }

  /** Commits, then remembers what was written; a failed commit forgets everything (the store is unknown). */
  private async commitDocuments(
    partition: number,
    state: PartitionState<D>,
    writes: readonly DocumentWrite<D>[],
    checkpoint: number,
  ): Promise<void> {
    try {
      await this.sink.commit(partition, writes, checkpoint);
    } catch (error) {
      state.written.clear();
      throw error;
    }
    const bound = this.options.writtenDocumentsPerPartition ?? 20_000;
    for (const write of writes) {
      state.written.delete(write.key);
      state.written.set(write.key, { key: write.key, partition, doc: write.doc, position: write.position });
    }
    // Map order is insertion order: the first entries are the least recently written.
    for (const key of state.written.keys()) {
      if (state.written.size <= bound) break;
      state.written.delete(key);
    }
  }

  /** Reads new records of the partition's dead-letter log into the parked state. */
  private async syncDeadLetters(partition: number, state: PartitionState<D>): Promise<void> {
    const { records, end } = await readDeadLetterPartition(
      this.reader,
      this.deadLetterTopic,
      partition,
      state.deadLetterTail,
    );
    for (const record of records) state.parked.apply(record);
    state.deadLetterTail = end;
  }

  private async pollDeadLetters(): Promise<void> {
    for (const partition of this.owned) {
      if (this.stopped) return;
      await this.withLock(partition, async () => {
        if (this.stopped || !this.owned.has(partition)) return;
        const state = await this.stateOf(partition);
        await this.syncDeadLetters(partition, state);
        while (state.parked.requests.length > 0 && !this.stopped) {
          await this.performReplay(partition, state);
        }
      }).catch((error: unknown) =>
        this.logger.warn({ err: error, partition }, 'dead-letter poll failed; retrying later'),
      );
    }
  }

  /** Re-applies the parked events of the oldest replay request with the code this projector runs. */
  private async performReplay(partition: number, state: PartitionState<D>): Promise<void> {
    const request = state.parked.requests[0];
    if (!request || !this.producer) return;
    const entries = state.parked.entries(request.keys);
    const parked: ParkedEvent[] = entries.map(({ offset, key, record }) => {
      try {
        const raw = typeof record.event === 'string' ? (JSON.parse(record.event) as unknown) : record.event;
        const envelope = EventEnvelope.parse(raw);
        envelope.payload = this.options.events.read(envelope.type, envelope.schemaVersion, envelope.payload);
        // The payload is now in the latest schema version; the envelope says so, for the projection.
        envelope.schemaVersion = this.options.events.latestVersion(envelope.type);
        return { offset, key, event: envelope };
      } catch (error) {
        return { offset, key, event: error instanceof Error ? error : new Error(String(error)) };
      }
    });
    const keys = [...new Set(parked.map((p) => p.key))];
    const loaded = await this.loadDocuments(partition, state, keys);
    const result = replayParked(this.definition, parked, loaded);
    if (result.writes.length > 0)
      await this.commitDocuments(partition, state, result.writes, state.checkpoint);
    const answer: ReplayResultRecord = {
      kind: 'replay-result',
      partition,
      requestId: request.requestId,
      replayed: result.replayed,
      failed: result.failed,
      at: new Date().toISOString(),
    };
    await this.producer.send({
      topic: this.deadLetterTopic,
      acks: -1,
      messages: [{ partition, key: `replay:${request.requestId}`, value: JSON.stringify(answer) }],
    });
    await this.syncDeadLetters(partition, state);
    // A reader waiting on this partition should re-read the replayed documents.
    if (result.writes.length > 0) {
      await this.options.bus
        .publish([
          {
            context: this.definition.context,
            projection: this.definition.name,
            version: this.definition.version,
            partition,
            offset: state.checkpoint,
          },
        ])
        .catch(() => undefined);
    }
    this.logger.info(
      {
        partition,
        requestId: request.requestId,
        replayed: result.replayed.length,
        stillParked: result.failed.length,
      },
      'dead letters replayed',
    );
  }

  private async refreshHaltedLogEnds(): Promise<void> {
    if (this.halted.size === 0 || this.stopped) return;
    try {
      for (const { partition, high } of await this.admin.fetchTopicOffsets(this.topic)) {
        if (this.halted.has(partition)) this.setLogEnd(partition, Number(high));
      }
    } catch (error) {
      this.logger.debug({ err: error }, 'log end refresh failed');
    }
  }

  private setWatermark(partition: number, offset: number): void {
    this.watermarks.set(partition, offset);
    this.metrics.watermark.set(this.partitionLabels(partition), offset);
    this.updateLag(partition);
    this.emitter.emit('watermark');
  }

  private setLogEnd(partition: number, offset: number): void {
    this.logEnds.set(partition, offset);
    this.updateLag(partition);
  }

  private updateLag(partition: number): void {
    const end = this.logEnds.get(partition);
    if (end === undefined) return;
    this.metrics.lag.set(
      this.partitionLabels(partition),
      Math.max(0, end - (this.watermarks.get(partition) ?? 0)),
    );
  }

  private setHalted(partition: number, halt: { offset: number; error: string } | null): void {
    if (halt) this.halted.set(partition, halt);
    else this.halted.delete(partition);
    this.metrics.halted.set(this.partitionLabels(partition), halt ? 1 : 0);
  }

  /** partition -> next offset not applied (what this projector last read or wrote). */
  watermark(): Map<number, number> {
    return new Map(this.watermarks);
  }

  /** partition -> log end minus watermark, for partitions whose log end is known. */
  lag(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [partition, end] of this.logEnds) {
      out.set(partition, Math.max(0, end - (this.watermarks.get(partition) ?? 0)));
    }
    return out;
  }

  status(): PartitionStatus[] {
    const out: PartitionStatus[] = [];
    for (let partition = 0; partition < this.partitionCount; partition++) {
      const end = this.logEnds.get(partition);
      const watermark = this.watermarks.get(partition) ?? 0;
      out.push({
        partition,
        watermark,
        logEnd: end ?? null,
        lag: end === undefined ? null : Math.max(0, end - watermark),
        owned: this.owned.has(partition),
        halted: this.halted.get(partition) ?? null,
        parkedKeys: this.states.get(partition)?.parked.parkedKeys().size ?? 0,
      });
    }
    return out;
  }

  ownedPartitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  /** Resolves once the watermark is >= `positions` on every partition given; rejects after `timeoutMs`. */
  waitForWatermark(
    positions: ReadonlyMap<number, number> | Readonly<Record<number, number>>,
    timeoutMs = 30_000,
  ): Promise<void> {
    const wanted: [number, number][] =
      positions instanceof Map
        ? [...positions]
        : Object.entries(positions).map(([p, o]) => [Number(p), Number(o)] as [number, number]);
    const covered = () => wanted.every(([p, o]) => (this.watermarks.get(p) ?? 0) >= o);
    if (covered()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onWatermark = () => {
        if (!covered()) return;
        clearTimeout(timer);
        this.emitter.off('watermark', onWatermark);
        resolve();
      };
      const timer = setTimeout(() => {
        this.emitter.off('watermark', onWatermark);
        reject(
          new Error(
            `watermark ${JSON.stringify([...this.watermarks])} did not reach ${JSON.stringify(wanted)} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.emitter.on('watermark', onWatermark);
    });
  }

  /** Whether this version records side effects now (it has effects, an outbox, and is the active version). */
  recordsEffects(): boolean {
    return this.effectsEnabled && this.active;
  }

  /** Graceful: finishes the batch in flight (commits it), leaves the group, closes its own clients. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.unsubscribeControl?.().catch(() => undefined);
    this.unsubscribeControl = null;
    await this.activeRefresh;
    // The last offset hints (throttled while running), so that lag tools see where this projector stopped.
    const hints = [...this.owned].flatMap((partition) => {
      const watermark = this.watermarks.get(partition);
      return watermark === undefined ? [] : [{ topic: this.topic, partition, offset: String(watermark) }];
    });
    if (hints.length > 0) {
      await this.consumer
        .commitOffsets(hints)
        .catch((error: unknown) => this.logger.debug({ err: error }, 'final offset hints not committed'));
    }
    await this.consumer.disconnect();
    await Promise.all([...this.locks.values()]);
    if (this.effectsEnabled) await this.flushEffectsProgress();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    this.reader.close();
    this.logger.info({ watermark: [...this.watermarks] }, 'projector stopped');
  }
}
