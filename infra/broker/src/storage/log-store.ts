/** LogStore over the partition logs of every topic. */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '@tidemark/kafka-protocol';
import type { Logger } from 'pino';
import type {
  AppendOptions,
  AppendResult,
  BrokerConfig,
  BrokerMetrics,
  FetchPartitionResult,
  IsolationLevel,
  LogStore,
  PartitionStats,
  TopicMetadata,
  WaitPosition,
} from '../contracts';
import { fsyncDir } from './fs-util';
import { GroupCommitter } from './group-commit';
import { PartitionLog, type PartitionSettings, type RecoveryStats } from './partition-log';

/** How often retention runs in the background. */
export const RETENTION_INTERVAL_MS = 5000;

function parseLimit(value: string | undefined, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  const n = Number(value);
  return n < 0 ? null : n;
}

/** Topic configs that override broker settings for a topic's partitions. */
export function partitionSettings(config: BrokerConfig, configs: Record<string, string>): PartitionSettings {
  const segmentBytes = configs['segment.bytes'];
  const maxMessageBytes = configs['max.message.bytes'];
  return {
    segmentBytes: segmentBytes === undefined ? config.segmentBytes : Number(segmentBytes),
    retentionBytes: parseLimit(configs['retention.bytes'], config.retentionBytes),
    retentionMs: parseLimit(configs['retention.ms'], config.retentionMs),
    maxMessageBytes: maxMessageBytes === undefined ? config.maxFrameBytes : Number(maxMessageBytes),
  };
}

export class DiskLogStore implements LogStore {
  readonly logsDir: string;
  private readonly topics = new Map<string, PartitionLog[]>();
  private readonly committer: GroupCommitter;
  private timer: NodeJS.Timeout | null = null;
  private retentionRunning: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
    metrics: BrokerMetrics,
  ) {
    this.logsDir = join(config.dataDir, 'logs');
    this.committer = new GroupCommitter(metrics, logger);
  }

  /** Recovers the partitions of the given topics (at most `concurrency` at a time). */
  async load(topics: TopicMetadata[], concurrency = 4): Promise<void> {
    const work: { meta: TopicMetadata; partition: number }[] = [];
    for (const meta of topics) {
      this.topics.set(meta.name, new Array<PartitionLog>(meta.partitionCount));
      for (let p = 0; p < meta.partitionCount; p++) work.push({ meta, partition: p });
    }
    const started = Date.now();
    const total: RecoveryStats = { segments: 0, batches: 0, bytes: 0, truncatedBytes: 0, deletedSegments: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const item = work[next++];
        if (item === undefined) return;
        const settings = partitionSettings(this.config, item.meta.configs);
        const { log, stats } = await PartitionLog.open(
          this.logsDir,
          item.meta.name,
          item.partition,
          settings,
          this.committer,
          this.logger,
        );
        (this.topics.get(item.meta.name) as PartitionLog[])[item.partition] = log;
        total.segments += stats.segments;
        total.batches += stats.batches;
        total.bytes += stats.bytes;
        total.truncatedBytes += stats.truncatedBytes;
        total.deletedSegments += stats.deletedSegments;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
    this.logger.info(
      { partitions: work.length, ...total, ms: Date.now() - started },
      'partition logs recovered',
    );
  }

  startRetentionTimer(intervalMs = RETENTION_INTERVAL_MS): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      this.runRetention().catch((err: unknown) => this.logger.error({ err }, 'retention failed'));
    }, intervalMs);
    this.timer.unref();
  }

  /** Applies retention to every partition now (also run by the timer). Resolves with the segments deleted. */
  async runRetention(now = Date.now()): Promise<number> {
    while (this.retentionRunning !== null) await this.retentionRunning;
    let deleted = 0;
    const run = (async () => {
      for (const logs of [...this.topics.values()]) {
        for (const log of logs) {
          if (log !== undefined) deleted += await log.applyRetention(now);
        }
      }
    })();
    this.retentionRunning = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      await run;
    } finally {
      this.retentionRunning = null;
    }
    return deleted;
  }

  /** Creates the partition directories of a new topic durably (before the registry records it). */
  async createPartitions(meta: TopicMetadata): Promise<PartitionLog[]> {
    const settings = partitionSettings(this.config, meta.configs);
    const logs: PartitionLog[] = [];
    try {
      for (let p = 0; p < meta.partitionCount; p++) {
        logs.push(
          await PartitionLog.create(this.logsDir, meta.name, p, settings, this.committer, this.logger),
        );
      }
      await fsyncDir(this.logsDir);
    } catch (err) {
      await Promise.all(logs.map((l) => l.close()));
      await this.removeDirs(meta.name, meta.partitionCount);
      throw err;
    }
    return logs;
  }

  /** Makes created partitions visible (after the registry durably recorded the topic). */
  addTopic(name: string, logs: PartitionLog[]): void {
    this.topics.set(name, logs);
  }

  /** Drops a topic's logs: no more appends, pending flushes finish, files closed and removed. */
  async removeTopic(name: string, partitionCount: number): Promise<void> {
    const logs = this.topics.get(name) ?? [];
    this.topics.delete(name);
    for (const log of logs) {
      log.deleted = true;
      log.wake();
    }
    await this.committer.drain();
    await Promise.all(logs.map((l) => l.close()));
    await this.removeDirs(name, Math.max(partitionCount, logs.length));
  }

  private async removeDirs(name: string, partitionCount: number): Promise<void> {
    for (let p = 0; p < partitionCount; p++) {
      await fsp.rm(join(this.logsDir, PartitionLog.dirName(name, p)), { recursive: true, force: true });
    }
    await fsyncDir(this.logsDir);
  }

  partitionLog(topic: string, partition: number): PartitionLog {
    const log = this.topics.get(topic)?.[partition];
    if (log === undefined || log.deleted) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown partition ${topic}-${partition}`);
    }
    return log;
  }

  private checkOpen(): void {
    if (this.closed) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'storage is closed');
  }

  async append(
    topic: string,
    partition: number,
    records: Buffer,
    options: AppendOptions,
  ): Promise<AppendResult> {
    this.checkOpen();
    return this.partitionLog(topic, partition).append(records, options);
  }

  async writeTxnMarker(
    topic: string,
    partition: number,
    marker: { producerId: number; producerEpoch: number; commit: boolean; coordinatorEpoch: number },
  ): Promise<void> {
    this.checkOpen();
    return this.partitionLog(topic, partition).writeTxnMarker(marker);
  }

  async read(
    topic: string,
    partition: number,
    fetchOffset: number,
    maxBytes: number,
    isolation: IsolationLevel,
  ): Promise<FetchPartitionResult> {
    return this.partitionLog(topic, partition).read(fetchOffset, maxBytes, isolation);
  }

  waitForData(
    partitions: WaitPosition[],
    timeoutMs: number,
    signal?: AbortSignal,
    isolation: IsolationLevel = 0,
  ): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const logs: PartitionLog[] = [];
      for (const tp of partitions) {
        const log = this.topics.get(tp.topic)?.[tp.partition];
        if (log === undefined) continue;
        const end = isolation === 1 ? log.lastStableOffset : log.highWatermark;
        // Moved since the caller's read: waiting now would sleep through data that is already there.
        if (tp.seenEnd !== undefined && end !== tp.seenEnd) return resolve();
        logs.push(log);
      }
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const log of logs) log.removeWaiter(finish);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, timeoutMs));
      for (const log of logs) log.addWaiter(finish);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  async listOffset(
    topic: string,
    partition: number,
    timestamp: number,
    isolation: IsolationLevel,
  ): Promise<{ offset: number; timestamp: number }> {
    return this.partitionLog(topic, partition).listOffset(timestamp, isolation);
  }

  stats(): PartitionStats[] {
    const out: PartitionStats[] = [];
    for (const logs of this.topics.values()) {
      for (const log of logs) {
        if (log === undefined) continue;
        out.push({
          topic: log.topic,
          partition: log.partition,
          logStartOffset: log.logStartOffset,
          highWatermark: log.highWatermark,
          lastStableOffset: log.lastStableOffset,
          sizeBytes: log.sizeBytes,
          segmentCount: log.segments.length,
        });
      }
    }
    return out;
  }

  /** Resolves once every append made so far is durable (or failed). */
  flush(): Promise<void> {
    return this.committer.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    while (this.retentionRunning !== null) await this.retentionRunning;
    await this.committer.drain();
    for (const logs of this.topics.values()) {
      for (const log of logs) {
        if (log === undefined) continue;
        log.wake();
        await log.close();
      }
    }
    this.topics.clear();
  }
}
