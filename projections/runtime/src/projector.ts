/**
 * The projector of one projection version: a member of consumer group `<ctx>.proj.<name>.v<N>` on
 * `<ctx>.events` (read_committed) that folds each partition batch onto the sink's documents and commits them
 * with the partition's checkpoint in one sink commit, then announces the new watermark.
 *
 * Positions come from the sink, not from Kafka: the sink's checkpoint is the next offset to apply. Kafka's
 * committed offsets are only a hint (and what lag tools read). Each batch is reconciled with the checkpoint
 * (checkpoint-reconciliation.ts) before anything of it is applied.
 *
 * This file is the consumer loop and the lifecycle (clients, group membership, partition state per generation,
 * locks and timers). Beside it, one concept each: checkpoint-reconciliation.ts (what to do with a fetched batch),
 * event-decoder.ts (records to envelopes), fold.ts (the pure fold), partition-documents.ts (sink loads and
 * commits), dead-letter-handler.ts (the dead-letter policy), side-effect-recorder.ts (the outbox, while active),
 * projector-progress.ts (watermarks, lag, halts) and projector-metrics.ts.
 */
import { randomUUID } from 'node:crypto';
import { createKafka, PartitionReader, runSupervised } from '@tidemark/kafka';
import type { EventEnvelope, EventRegistry } from '@tidemark/schemas';
import type { Admin, Batch, Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { reconcileCheckpoint } from './checkpoint-reconciliation';
import type {
  ProjectionControl,
  ProjectionDefinition,
  ProjectionDocument,
  ProjectionVersionState,
  SideEffectOutbox,
  Sink,
  WatermarkBus,
} from './contracts';
import { projectionGroupId, watermarkUpdate } from './contracts';
import { DeadLetterHandler } from './dead-letter-handler';
import { deadLetterTopic, ensureDeadLetterTopic, ParkedState } from './dead-letters';
import { EventDecoder, typeHeader } from './event-decoder';
import type { FoldRecord } from './fold';
import { foldBatch } from './fold';
import { PartitionDocuments } from './partition-documents';
import { PartitionLocks } from './partition-locks';
import type { PartitionState } from './partition-state';
import type { ProjectorMetrics } from './projector-metrics';
import { createProjectorMetrics, partitionLabels } from './projector-metrics';
import { ProjectorProgress } from './projector-progress';
import { SideEffectRecorder } from './side-effect-recorder';

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

export interface PartitionStatus {
  partition: number;
  watermark: number;
  logEnd: number | null;
  lag: number | null;
  owned: boolean;
  halted: { offset: number; error: string } | null;
  parkedKeys: number;
}

/** How often a partition's Kafka offset (a hint; the sink's checkpoint is the authority) is committed at most. */
const OFFSET_HINT_INTERVAL_MS = 5_000;

export class Projector<D extends ProjectionDocument = ProjectionDocument> {
  readonly registry: Registry;
  readonly groupId: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly definition: ProjectionDefinition<D>;
  private readonly sink: Sink<D>;
  private readonly decoder: EventDecoder;
  private readonly metrics: ProjectorMetrics;
  private readonly states = new Map<number, PartitionState<D>>();
  private readonly hintCommittedAt = new Map<number, number>();
  private readonly locks = new PartitionLocks();
  /** Watermarks, log ends, lag and halts: for status(), waiters and the gauges. */
  private readonly progress: ProjectorProgress;
  private owned = new Set<number>();
  private generation = 0;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  /** The dead-letter policy's writer and replayer (with the `dead-letter` policy only). */
  private readonly deadLetters: DeadLetterHandler<D> | null;
  /** Records side effects (only when the definition has effects and an outbox is given). */
  private readonly effects: SideEffectRecorder<D> | null;

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
    this.decoder = new EventDecoder(options.events, options.definition.eventTypes);
    this.registry = options.metrics ?? new Registry();
    this.metrics = createProjectorMetrics(this.registry);
    this.progress = new ProjectorProgress(this.definition, this.metrics);
    this.deadLetters = producer
      ? new DeadLetterHandler({
          definition: this.definition,
          topic: this.deadLetterTopic,
          producer,
          reader,
          decoder: this.decoder,
          bus: options.bus,
          metrics: this.metrics,
          logger,
        })
      : null;
    const { outbox, control } = options;
    this.effects =
      options.definition.effects && outbox && control
        ? new SideEffectRecorder({
            definition: this.definition,
            outbox,
            control,
            reader,
            topic: this.topic,
            decoder: this.decoder,
            logger,
          })
        : null;
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
      projector.progress.setWatermark(partition, checkpoint);
    }
    try {
      await projector.effects?.watch(() => projector.onActivated());
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

  private partitionLabels(partition: number) {
    return partitionLabels(this.definition, partition);
  }

  private async run(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
        this.generation++;
        const assigned = event.payload.memberAssignment[this.topic] ?? [];
        this.owned = new Set(assigned);
        for (const partition of this.progress.haltedPartitions()) {
          if (!this.owned.has(partition)) this.progress.setHalted(partition, null);
        }
        this.logger.info({ generation: this.generation, assigned }, 'partitions assigned');
        // A previous owner may have applied events while this version was not yet known to be active.
        if (this.effects?.active) this.catchUpEffectsOfOwned();
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
    if (this.deadLetters) {
      const interval = this.options.deadLetter?.pollIntervalMs ?? 1000;
      this.timers.push(setInterval(() => void this.pollDeadLetters(), interval));
    }
    this.timers.push(setInterval(() => void this.refreshHaltedLogEnds(), this.options.lagRefreshMs ?? 5000));
    if (this.effects) {
      // A catch-up that failed (Postgres briefly away) is retried even if no new events arrive.
      this.timers.push(
        setInterval(() => {
          this.catchUpEffectsOfOwned();
          void this.flushEffectsProgress();
        }, this.options.effectsCheckMs ?? 5000),
      );
    }
  }

  /** This version became the active one: the outbox's progress moved meanwhile, so reload it and catch up. */
  private onActivated(): void {
    for (const state of this.states.values()) state.effectsProgress = null;
    this.catchUpEffectsOfOwned();
  }

  /** For each owned partition, under its lock: records the effects this version applied and nobody recorded. */
  private catchUpEffectsOfOwned(): void {
    const effects = this.effects;
    if (!effects?.active || this.stopped) return;
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
      void this.locks
        .run(partition, async () => {
          if (this.stopped || !effects.active || !this.owned.has(partition)) return;
          await effects.catchUp(partition, await this.stateOf(partition));
        })
        .catch((error: unknown) =>
          this.logger.warn({ err: error, partition }, 'side-effect catch-up failed; retrying later'),
        );
    }
  }

  /** Writes the outbox progress that chunks without effects moved only in memory. */
  private async flushEffectsProgress(): Promise<void> {
    const effects = this.effects;
    if (!effects) return;
    for (const [partition, state] of this.states) {
      const progress = state.effectsProgress;
      if (progress === null || progress <= state.effectsPersisted) continue;
      await this.locks
        .run(partition, () => effects.persistProgress(partition, state, progress))
        .catch((error: unknown) =>
          this.logger.debug({ err: error, partition }, 'side-effect progress not written; retrying later'),
        );
    }
  }

  /** Follows each owned partition's dead-letter log and performs the replays requested there. */
  private async pollDeadLetters(): Promise<void> {
    const deadLetters = this.deadLetters;
    if (!deadLetters) return;
    for (const partition of this.owned) {
      if (this.stopped) return;
      await this.locks
        .run(partition, async () => {
          if (this.stopped || !this.owned.has(partition)) return;
          const state = await this.stateOf(partition);
          await deadLetters.sync(partition, state);
          while (state.parked.requests.length > 0 && !this.stopped) {
            await deadLetters.replay(partition, state);
          }
        })
        .catch((error: unknown) =>
          this.logger.warn({ err: error, partition }, 'dead-letter poll failed; retrying later'),
        );
    }
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
      documents: new PartitionDocuments(
        this.sink,
        partition,
        this.options.writtenDocumentsPerPartition ?? 20_000,
      ),
      deadLetterTail: 0,
      effectsProgress: null,
      effectsPersisted: 0,
    };
    if (this.deadLetters) await this.deadLetters.sync(partition, state);
    this.states.set(partition, state);
    this.progress.setWatermark(partition, checkpoint);
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
      await this.locks.run(batch.partition, () => this.processBatch(payload));
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
    if (this.stopped || isStale() || this.progress.isHalted(partition)) return;
    const state = await this.stateOf(partition);
    this.progress.setLogEnd(partition, Number(batch.highWatermark));
    const last = Number(batch.lastOffset());
    // kafkajs keeps the offset it fetched from on the batch (not in its typings).
    const fetchedOffset = Number(
      (batch as Batch & { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? last,
    );
    const messages = batch.messages;
    const expected = state.checkpoint;
    const decision = reconcileCheckpoint(
      { fetchedOffset, lastOffset: last, messages, seekPending: isStale() },
      { checkpoint: expected, continuous: state.continuous, sought: state.sought },
    );
    state.continuous = decision.continuous;
    state.sought = decision.sought;
    let committed = expected;
    switch (decision.kind) {
      case 'await-seek':
        return;
      case 'seek':
        this.logger.info(
          { partition, fetchedOffset, checkpoint: expected },
          'seeking to the sink checkpoint',
        );
        this.consumer.seek({ topic: this.topic, partition, offset: String(decision.offset) });
        return;
      case 'up-to-date':
        return;
      case 'advance-only':
        committed = await this.processChunk(partition, state, [], decision.to);
        break;
      case 'apply': {
        const max = this.options.maxBatchEvents ?? 20_000;
        for (let from = decision.fromIndex; from < messages.length; from += max) {
          if (isStale()) break;
          const chunk = messages.slice(from, from + max);
          const isLast = from + max >= messages.length;
          const checkpoint = isLast ? decision.to : Number(chunk.at(-1)?.offset) + 1;
          // Only a batch's last chunk is pipelined: earlier chunks' commits come before it anyway.
          committed = await this.processChunk(partition, state, chunk, checkpoint, isLast && this.pipelined);
          if (this.progress.isHalted(partition)) break;
          await heartbeat();
        }
        break;
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
    const decoder = this.decoder;
    for (const message of messages) {
      const headerType = typeHeader(message);
      let envelope: EventEnvelope | null;
      try {
        envelope = decoder.decodeRecord(headerType, message.value);
      } catch (error) {
        const offset = Number(message.offset);
        records.push({
          offset,
          type: headerType ?? 'unknown',
          error: error instanceof Error ? error : new Error(String(error)),
        });
        undecodable.set(offset, message.value);
        continue;
      }
      if (envelope === null) continue; // not handled by this projection (still moves the checkpoint)
      records.push({ offset: Number(message.offset), type: envelope.type, event: envelope });
      try {
        for (const key of this.definition.keys(envelope)) keys.add(key);
      } catch {
        // foldBatch reports it as a poison event.
      }
    }
    const decoded = process.hrtime.bigint();
    const loaded = await state.documents.load(keys);
    const loadedAt = process.hrtime.bigint();
    const result = foldBatch(this.definition, records, loaded, state.parked.parkedKeys());
    const folded = process.hrtime.bigint();
    if (result.deadLetters.length > 0 && this.deadLetters) {
      await this.deadLetters.write(partition, state, result.deadLetters, messages, undecodable);
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
    void this.locks.run(partition, async () => {
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
    if (this.effects?.active && advanced) {
      // Before the sink commit: a crash in between re-applies the chunk, and the outbox ignores repeats.
      await this.effects.recordChunk(partition, state, records, reached);
    }
    if (advanced || result.writes.length > 0) {
      await state.documents.commit(result.writes, Math.max(reached, state.checkpoint));
    }
    const committedAt = process.hrtime.bigint();
    if (advanced) {
      state.checkpoint = reached;
      this.progress.setWatermark(partition, reached);
    }
    if (advanced && !this.sink.publishesWatermark) {
      await this.options.bus
        .publish([watermarkUpdate(this.definition, partition, reached)])
        .catch((error: unknown) =>
          // The bus only wakes readers; the sink's checkpoint is what they reload.
          this.logger.warn({ err: error, partition }, 'watermark publish failed'),
        );
    }
    if (result.halt) {
      const error = result.halt.error.message;
      this.progress.setHalted(partition, { offset: result.halt.offset, error });
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

  private async refreshHaltedLogEnds(): Promise<void> {
    if (this.progress.haltedCount === 0 || this.stopped) return;
    try {
      for (const { partition, high } of await this.admin.fetchTopicOffsets(this.topic)) {
        if (this.progress.isHalted(partition)) this.progress.setLogEnd(partition, Number(high));
      }
    } catch (error) {
      this.logger.debug({ err: error }, 'log end refresh failed');
    }
  }

  /** partition -> next offset not applied (what this projector last read or wrote). */
  watermark(): Map<number, number> {
    return this.progress.watermark();
  }

  /** partition -> log end minus watermark, for partitions whose log end is known. */
  lag(): Map<number, number> {
    return this.progress.lag();
  }

  status(): PartitionStatus[] {
    const out: PartitionStatus[] = [];
    for (let partition = 0; partition < this.partitionCount; partition++) {
      const end = this.progress.logEndOf(partition);
      const watermark = this.progress.watermarkOf(partition) ?? 0;
      out.push({
        partition,
        watermark,
        logEnd: end ?? null,
        lag: end === undefined ? null : Math.max(0, end - watermark),
        owned: this.owned.has(partition),
        halted: this.progress.halt(partition) ?? null,
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
    return this.progress.waitFor(positions, timeoutMs);
  }

  /** Whether this version records side effects now (it has effects, an outbox, and is the active version). */
  recordsEffects(): boolean {
    return this.effects?.active ?? false;
  }

  /** Graceful: finishes the batch in flight (commits it), leaves the group, closes its own clients. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.effects?.close();
    // The last offset hints (throttled while running), so that lag tools see where this projector stopped.
    const hints = [...this.owned].flatMap((partition) => {
      const watermark = this.progress.watermarkOf(partition);
      return watermark === undefined ? [] : [{ topic: this.topic, partition, offset: String(watermark) }];
    });
    if (hints.length > 0) {
      await this.consumer
        .commitOffsets(hints)
        .catch((error: unknown) => this.logger.debug({ err: error }, 'final offset hints not committed'));
    }
    await this.consumer.disconnect();
    await this.locks.idle();
    await this.flushEffectsProgress();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    this.reader.close();
    this.logger.info({ watermark: [...this.progress.watermark()] }, 'projector stopped');
  }
}
