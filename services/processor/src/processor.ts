/**
 * The command processor of one context: a member of consumer group <ctx>.processor on <ctx>.commands that owns
 * the partitions the group assigns it, one PartitionOwner (fenced single writer) per partition.
 *
 * Ownership follows the group: after every rebalance each owned partition is taken over again (fence +
 * rebuild), because a member cannot tell whether another one owned the partition in between (a paused process
 * learns about the rebalance only when it wakes). A partition whose producer was fenced is not taken back
 * until the next rebalance or a session timeout: the fence usually means someone else owns it now.
 */
import { randomUUID } from 'node:crypto';
import type { ContextTopics } from '@tidemark/kafka';
import {
  createKafka,
  ensureTopicIdentity,
  PartitionReader,
  provisionContextTopics,
  runSupervised,
} from '@tidemark/kafka';
import type { ContextDefinition } from '@tidemark/sdk';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry, Summary } from 'prom-client';
import type { OwnerSettings } from './partition-owner';
import { PartitionOwner } from './partition-owner';

export interface CommandProcessorOptions {
  brokers: string[];
  context: ContextDefinition;
  partitions: number;
  logger: Logger;
  instanceId?: string;
  /** Commands decided per transaction at most. */
  maxBatch?: number;
  /** Outcomes remembered per partition for idempotent retries. */
  dedupeWindow?: number;
  snapshotEveryEvents?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  transactionTimeoutMs?: number;
  /** How often command offsets are committed (in a batch's transaction, or alone when idle); default 500 ms. */
  offsetCommitIntervalMs?: number;
  replicationFactor?: number;
  /** Registry to add the processor's metrics to (one is created otherwise). */
  registry?: Registry;
}

interface OwnedPartition {
  owner: PartitionOwner;
  generation: number;
}

const FENCED_CODES = new Set([47, 49, 90]); // INVALID_PRODUCER_EPOCH, INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED

/** Whether an error (or one it wraps) says this producer has been fenced by a newer owner. */
export function isFencedError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const e = current as {
      code?: unknown;
      type?: unknown;
      originalError?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof e.code === 'number' && FENCED_CODES.has(e.code)) return true;
    if (
      e.type === 'INVALID_PRODUCER_EPOCH' ||
      e.type === 'PRODUCER_FENCED' ||
      e.type === 'INVALID_PRODUCER_ID_MAPPING'
    )
      return true;
    queue.push(e.originalError, e.cause, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return false;
}

export class CommandProcessor {
  readonly registry: Registry;
  private readonly owned = new Map<number, OwnedPartition>();
  private readonly takingOver = new Map<number, Promise<OwnedPartition>>();
  /** partition -> when (generation, time) its producer was fenced */
  private readonly fencedAt = new Map<number, { generation: number; at: number }>();
  private generation = 0;
  private stopped = false;
  private readonly metrics;

  private constructor(
    private readonly kafka: Kafka,
    private readonly consumer: Consumer,
    private readonly reader: PartitionReader,
    private readonly settings: OwnerSettings,
    private readonly options: Required<Pick<CommandProcessorOptions, 'maxBatch'>> & CommandProcessorOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.registry = registry;
    const labels = { context: settings.context.name };
    this.metrics = {
      commands: new Counter({
        name: 'tidemark_processor_commands_total',
        help: 'Commands decided, by context, type and outcome (duplicates counted as duplicate)',
        labelNames: ['context', 'type', 'status'] as const,
        registers: [registry],
      }),
      events: new Counter({
        name: 'tidemark_processor_events_total',
        help: 'Events appended',
        labelNames: ['context'] as const,
        registers: [registry],
      }),
      transactionSeconds: new Summary({
        name: 'tidemark_processor_transaction_seconds',
        help: 'Time to decide and commit one batch',
        labelNames: ['context'] as const,
        percentiles: [0.5, 0.99],
        maxAgeSeconds: 60,
        ageBuckets: 5,
        registers: [registry],
      }),
      batchSize: new Summary({
        name: 'tidemark_processor_batch_commands',
        help: 'Commands per transaction',
        labelNames: ['context'] as const,
        percentiles: [0.5, 0.99],
        maxAgeSeconds: 60,
        ageBuckets: 5,
        registers: [registry],
      }),
      rebuildSeconds: new Summary({
        name: 'tidemark_processor_rebuild_seconds',
        help: 'Time to fence and rebuild a partition on takeover',
        labelNames: ['context'] as const,
        percentiles: [0.5, 0.99],
        registers: [registry],
      }),
      takeovers: new Counter({
        name: 'tidemark_processor_takeovers_total',
        help: 'Partition takeovers (fence + rebuild)',
        labelNames: ['context'] as const,
        registers: [registry],
      }),
      fenced: new Counter({
        name: 'tidemark_processor_fenced_total',
        help: 'Transactions refused because a newer owner fenced this one',
        labelNames: ['context'] as const,
        registers: [registry],
      }),
      owned: new Gauge({
        name: 'tidemark_processor_owned_partitions',
        help: 'Partitions this instance currently owns',
        labelNames: ['context'] as const,
        registers: [registry],
      }),
      labels,
    };
  }

  static async start(options: CommandProcessorOptions): Promise<CommandProcessor> {
    const instanceId = options.instanceId ?? randomUUID().slice(0, 8);
    const logger = options.logger.child({
      component: 'processor',
      context: options.context.name,
      instanceId,
    });
    const kafka = createKafka({
      brokers: options.brokers,
      clientId: `tidemark-processor-${instanceId}`,
      logger,
    });
    const admin = kafka.admin();
    await admin.connect();
    let topics: ContextTopics;
    try {
      topics = await provisionContextTopics(admin, options.context.name, {
        partitions: options.partitions,
        replicationFactor: options.replicationFactor,
      });
    } finally {
      await admin.disconnect();
    }
    const reader = PartitionReader.create(options.brokers, `tidemark-processor-${instanceId}-reader`);
    const topicIdentity = await ensureTopicIdentity(kafka, reader, topics.events);
    const consumerGroup = `${options.context.name}.processor`;
    const settings: OwnerSettings = {
      context: options.context,
      topics,
      topicIdentity,
      consumerGroup,
      dedupeWindow: options.dedupeWindow ?? 10_000,
      snapshotEveryEvents: options.snapshotEveryEvents ?? 5_000,
      transactionTimeoutMs: options.transactionTimeoutMs ?? 30_000,
      offsetCommitIntervalMs: options.offsetCommitIntervalMs ?? 500,
      instanceId,
    };
    const consumer = kafka.consumer({
      groupId: consumerGroup,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: (options.sessionTimeoutMs ?? 10_000) * 2,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
      allowAutoTopicCreation: false,
    });
    const processor = new CommandProcessor(
      kafka,
      consumer,
      reader,
      settings,
      { ...options, maxBatch: options.maxBatch ?? 500 },
      logger,
      options.registry ?? new Registry(),
    );
    await processor.run();
    logger.info({ partitions: options.partitions, topicIdentity }, 'command processor started');
    return processor;
  }

  get topicIdentity(): string {
    return this.settings.topicIdentity;
  }

  private get sessionTimeoutMs(): number {
    return this.options.sessionTimeoutMs ?? 10_000;
  }

  get consumerGroup(): string {
    return this.settings.consumerGroup;
  }

  get partitionCount(): number {
    return this.options.partitions;
  }

  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  private async run(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
        this.generation++;
        const assigned = event.payload.memberAssignment[this.settings.topics.commands] ?? [];
        this.logger.info({ generation: this.generation, assigned }, 'partitions assigned');
        // Partitions that went elsewhere: their producers are fenced by the new owner anyway; free them now.
        for (const [partition, entry] of this.owned) {
          if (assigned.includes(partition)) continue;
          this.owned.delete(partition);
          void entry.owner.release();
        }
        this.metrics.owned.set(this.metrics.labels, this.owned.size);
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.settings.topics.commands, fromBeginning: true });
    await runSupervised(
      this.consumer,
      {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitions,
        eachBatch: (payload) => this.onBatch(payload),
      },
      { logger: this.logger, isClosed: () => this.stopped },
    );
    await joined;
  }

  private async ownerFor(partition: number): Promise<OwnedPartition> {
    const current = this.owned.get(partition);
    if (current && current.generation === this.generation) return current;
    // Fenced means another owner took the partition, unless the coordinator itself bumped the epoch (a
    // transaction timeout, a broker restart). A zombie learns of the rebalance at its next heartbeat, well
    // within a session timeout; a member that is still in the same generation after that really owns it.
    const fenced = this.fencedAt.get(partition);
    if (fenced && fenced.generation === this.generation && Date.now() - fenced.at < this.sessionTimeoutMs) {
      throw new Error(
        `partition ${partition} was fenced by a newer owner; waiting for the group to rebalance`,
      );
    }
    const pending = this.takingOver.get(partition);
    if (pending) return pending;
    const takeover = (async () => {
      if (current) await current.owner.release();
      this.owned.delete(partition);
      const generation = this.generation;
      const started = Date.now();
      const { owner, replayedEvents } = await PartitionOwner.takeOver(
        partition,
        this.kafka,
        this.reader,
        this.settings,
        this.logger,
      );
      const entry = { owner, generation };
      this.owned.set(partition, entry);
      this.metrics.takeovers.inc(this.metrics.labels);
      this.metrics.rebuildSeconds.observe(this.metrics.labels, (Date.now() - started) / 1000);
      this.metrics.owned.set(this.metrics.labels, this.owned.size);
      this.logger.info(
        { partition, generation, replayedEvents, ms: Date.now() - started },
        'partition taken over',
      );
      return entry;
    })();
    this.takingOver.set(partition, takeover);
    try {
      return await takeover;
    } finally {
      this.takingOver.delete(partition);
    }
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    // kafkajs heartbeats only between batches, and a takeover rebuilds the partition's state inside this one (then
    // its first transaction writes a snapshot of that state): a long log tail without a snapshot would outlast the
    // session, and the group would rebalance and start the rebuild over, again and again. Keep the membership
    // alive while the batch runs (kafkajs throttles these to the heartbeat interval).
    const keepAlive = setInterval(
      () => void payload.heartbeat().catch(() => undefined),
      this.options.heartbeatIntervalMs ?? 1_000,
    );
    try {
      await this.processOwnedBatch(payload);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async processOwnedBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    const { owner } = await this.ownerFor(partition);
    const messages = batch.messages;
    for (let start = 0; start < messages.length; start += this.options.maxBatch) {
      if (!isRunning() || isStale() || this.stopped) return;
      const chunk = messages.slice(start, start + this.options.maxBatch);
      const started = process.hrtime.bigint();
      try {
        const result = await owner.processBatch(
          chunk.map((m) => ({ offset: Number(m.offset), value: m.value })),
        );
        for (const d of result.outcomes) {
          const status = d.duplicate ? 'duplicate' : d.outcome.status;
          this.metrics.commands.inc({
            ...this.metrics.labels,
            type: d.events[0]?.type ?? d.outcome.status,
            status,
          });
        }
        this.metrics.events.inc(this.metrics.labels, result.eventsWritten);
        this.metrics.batchSize.observe(this.metrics.labels, chunk.length);
        this.metrics.transactionSeconds.observe(
          this.metrics.labels,
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      } catch (error) {
        const entry = this.owned.get(partition);
        this.owned.delete(partition);
        await entry?.owner.release();
        if (isFencedError(error)) {
          this.fencedAt.set(partition, { generation: this.generation, at: Date.now() });
          this.metrics.fenced.inc(this.metrics.labels);
          this.logger.warn({ partition }, 'fenced by a newer owner of the partition; giving it up');
        } else {
          this.logger.error(
            { partition, err: error },
            'batch failed; the partition will be taken over again',
          );
        }
        throw error;
      }
      const last = chunk.at(-1);
      if (last) resolveOffset(last.offset);
      await heartbeat();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer.disconnect();
    await Promise.all([...this.owned.values()].map((entry) => entry.owner.release()));
    this.owned.clear();
    this.reader.close();
    this.logger.info('command processor stopped');
  }
}
