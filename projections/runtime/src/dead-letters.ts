/**
 * Dead letters of a projection version live in a Kafka topic `<ctx>.proj.<name>.v<N>.dead-letters` with the
 * events topic's partition count: records about events partition p go to partition p.
 *
 * Why a topic (and not a Postgres table + NOTIFY): the runtime serves every store kind, and a topic needs
 * nothing beyond the Kafka cluster the projector already depends on; partition p's dead letters, replay
 * requests and replay results form one ordered log that only the owner of events partition p acts on, so the
 * single-writer rule holds without any locking: the owner tails its dead-letter partitions between batches,
 * rebuilds its parked keys from them on takeover (and so after a restart), and performs a requested replay
 * itself. An admin tool only appends a `replay-request` record.
 */
import { randomUUID } from 'node:crypto';
import type { ReadRecord } from '@tidemark/kafka';
import { createKafka, PartitionReader } from '@tidemark/kafka';
import type { EventEnvelope } from '@tidemark/schemas';
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { projectionGroupId } from './contracts';

export function deadLetterTopic(projection: { context: string; name: string; version: number }): string {
  return `${projectionGroupId(projection)}.dead-letters`;
}

/** An event (for some of its keys) set aside by the dead-letter policy. */
export interface DeadLetterRecord {
  kind: 'dead-letter';
  partition: number;
  offset: number;
  type: string;
  keys: string[];
  error: string;
  parkedBehind?: number;
  /** ISO time it was recorded (informational). */
  at: string;
  /** The envelope as read from the log (before upcasting), or null when it could not be decoded. */
  event: unknown;
}

export interface ReplayRequestRecord {
  kind: 'replay-request';
  partition: number;
  requestId: string;
  /** Only these keys (default: every parked key of the partition). */
  keys?: string[];
  at: string;
}

export interface ReplayResultRecord {
  kind: 'replay-result';
  partition: number;
  requestId: string;
  /** (offset, key) pairs applied: no longer parked. */
  replayed: { offset: number; key: string }[];
  /** Still parked: the first failure per key. */
  failed: { offset: number; key: string; error: string }[];
  at: string;
}

export type DeadLetterTopicRecord = DeadLetterRecord | ReplayRequestRecord | ReplayResultRecord;

export function decodeDeadLetterRecord(record: ReadRecord): DeadLetterTopicRecord | null {
  if (!record.value) return null;
  try {
    const value = JSON.parse(record.value.toString('utf8')) as DeadLetterTopicRecord;
    return typeof value === 'object' && value !== null && 'kind' in value ? value : null;
  } catch {
    return null;
  }
}

/** The parked (offset, key) pairs of one partition, rebuilt from its dead-letter log. */
export class ParkedState {
  /** `${offset}` -> the dead letter, with the keys still parked. */
  private readonly pending = new Map<number, { record: DeadLetterRecord; keys: Set<string> }>();
  private readonly firstByKey = new Map<string, number>();
  /** Replay requests seen and not answered yet. */
  readonly requests: ReplayRequestRecord[] = [];
  private readonly answered = new Set<string>();

  apply(record: DeadLetterTopicRecord): void {
    if (record.kind === 'dead-letter') {
      const existing = this.pending.get(record.offset);
      // A re-processed batch may dead-letter the same event twice: merge by offset.
      if (existing) for (const key of record.keys) existing.keys.add(key);
      else this.pending.set(record.offset, { record, keys: new Set(record.keys) });
      for (const key of record.keys) {
        const first = this.firstByKey.get(key);
        if (first === undefined || record.offset < first) this.firstByKey.set(key, record.offset);
      }
    } else if (record.kind === 'replay-request') {
      if (!this.answered.has(record.requestId)) this.requests.push(record);
    } else {
      this.answered.add(record.requestId);
      const index = this.requests.findIndex((r) => r.requestId === record.requestId);
      if (index >= 0) this.requests.splice(index, 1);
      for (const { offset, key } of record.replayed) {
        const entry = this.pending.get(offset);
        if (!entry) continue;
        entry.keys.delete(key);
        if (entry.keys.size === 0) this.pending.delete(offset);
      }
      this.recomputeFirst();
    }
  }

  private recomputeFirst(): void {
    this.firstByKey.clear();
    for (const [offset, entry] of [...this.pending].sort((a, b) => a[0] - b[0])) {
      for (const key of entry.keys) if (!this.firstByKey.has(key)) this.firstByKey.set(key, offset);
    }
  }

  /** key -> offset of its first parked event. */
  parkedKeys(): ReadonlyMap<string, number> {
    return this.firstByKey;
  }

  /** Parked entries (per key) in offset order, optionally only for `keys`. */
  entries(keys?: readonly string[]): { offset: number; key: string; record: DeadLetterRecord }[] {
    const wanted = keys ? new Set(keys) : null;
    const out: { offset: number; key: string; record: DeadLetterRecord }[] = [];
    for (const [offset, entry] of [...this.pending].sort((a, b) => a[0] - b[0])) {
      for (const key of entry.keys)
        if (!wanted || wanted.has(key)) out.push({ offset, key, record: entry.record });
    }
    return out;
  }

  get size(): number {
    return this.pending.size;
  }
}

/** Creates the dead-letter topic (same partition count as the events topic) if missing. */
export async function ensureDeadLetterTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  replicationFactor = -1,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  if (existing.has(topic)) return;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor }],
    });
  } catch (error) {
    // Another instance created it first.
    if (!(await admin.listTopics()).includes(topic)) throw error;
  }
}

export interface DeadLetterToolOptions {
  brokers: string[];
  projection: { context: string; name: string; version: number };
  logger: Logger;
}

export interface DeadLetterEntry {
  partition: number;
  offset: number;
  type: string;
  keys: string[];
  error: string;
  parkedBehind?: number;
  at: string;
  /** pending: some key still parked; replayed: every key applied by a replay. */
  status: 'pending' | 'replayed';
  /** Keys still parked. */
  pendingKeys: string[];
  event: unknown;
}

export interface DeadLetterListing {
  entries: DeadLetterEntry[];
  /** Replay requests not answered yet. */
  pendingRequests: ReplayRequestRecord[];
  results: ReplayResultRecord[];
}

async function partitionsOf(brokers: string[], topic: string, logger: Logger): Promise<number[] | null> {
  const admin = createKafka({
    brokers,
    clientId: `tidemark-dead-letters-${randomUUID().slice(0, 8)}`,
    logger,
  }).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return null;
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return (metadata.topics[0]?.partitions ?? []).map((p) => p.partitionId).sort((a, b) => a - b);
  } finally {
    await admin.disconnect();
  }
}

/** Reads a dead-letter partition's whole log. */
export async function readDeadLetterPartition(
  reader: PartitionReader,
  topic: string,
  partition: number,
  from = 0,
): Promise<{ records: DeadLetterTopicRecord[]; end: number }> {
  const end = await reader.endOffset(topic, partition);
  const records: DeadLetterTopicRecord[] = [];
  if (end > from) {
    await reader.read(topic, partition, from, end, (batch) => {
      for (const raw of batch) {
        const record = decodeDeadLetterRecord(raw);
        if (record) records.push(record);
      }
    });
  }
  return { records, end };
}

/** Every dead letter of a projection version with its status (for the ops CLI / admin API). */
export async function listDeadLetters(
  options: DeadLetterToolOptions & { partitions?: number[] },
): Promise<DeadLetterListing> {
  const topic = deadLetterTopic(options.projection);
  const all = await partitionsOf(options.brokers, topic, options.logger);
  const listing: DeadLetterListing = { entries: [], pendingRequests: [], results: [] };
  if (!all) return listing;
  const reader = PartitionReader.create(options.brokers);
  try {
    for (const partition of options.partitions ?? all) {
      const { records } = await readDeadLetterPartition(reader, topic, partition);
      const state = new ParkedState();
      const byOffset = new Map<number, DeadLetterRecord>();
      for (const record of records) {
        state.apply(record);
        if (record.kind === 'dead-letter' && !byOffset.has(record.offset))
          byOffset.set(record.offset, record);
        if (record.kind === 'replay-result') listing.results.push(record);
      }
      const pending = new Map<number, string[]>();
      for (const { offset, key } of state.entries())
        pending.set(offset, [...(pending.get(offset) ?? []), key]);
      for (const record of [...byOffset.values()].sort((a, b) => a.offset - b.offset)) {
        const pendingKeys = pending.get(record.offset) ?? [];
        listing.entries.push({
          partition: record.partition,
          offset: record.offset,
          type: record.type,
          keys: record.keys,
          error: record.error,
          ...(record.parkedBehind !== undefined ? { parkedBehind: record.parkedBehind } : {}),
          at: record.at,
          status: pendingKeys.length > 0 ? 'pending' : 'replayed',
          pendingKeys,
          event: record.event,
        });
      }
      listing.pendingRequests.push(...state.requests);
    }
  } finally {
    reader.close();
  }
  return listing;
}

export interface ReplayRequestOptions extends DeadLetterToolOptions {
  /** Partitions to replay (default: all). */
  partitions?: number[];
  /** Only these keys (default: every parked key). */
  keys?: string[];
  /** Wait up to this long for the owning projectors' results (default: do not wait). */
  waitMs?: number;
}

export interface ReplayRequestOutcome {
  requestId: string;
  partitions: number[];
  /** The results received when waiting (one per partition that answered). */
  results: ReplayResultRecord[];
}

/**
 * Asks the projectors that own the partitions to replay their parked events with the code they now run. The
 * request is a record on the dead-letter topic; the owner performs it between batches and answers with a
 * `replay-result` record on the same partition.
 */
export async function replayDeadLetters(options: ReplayRequestOptions): Promise<ReplayRequestOutcome> {
  const topic = deadLetterTopic(options.projection);
  const all = await partitionsOf(options.brokers, topic, options.logger);
  const requestId = randomUUID();
  if (!all) return { requestId, partitions: [], results: [] };
  const partitions = options.partitions ?? all;
  const kafka = createKafka({
    brokers: options.brokers,
    clientId: `tidemark-replay-${requestId.slice(0, 8)}`,
    logger: options.logger,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const starts = new Map<number, number>();
  const reader = PartitionReader.create(options.brokers);
  try {
    for (const partition of partitions) starts.set(partition, await reader.endOffset(topic, partition));
    await producer.send({
      topic,
      acks: -1,
      messages: partitions.map((partition) => {
        const request: ReplayRequestRecord = {
          kind: 'replay-request',
          partition,
          requestId,
          ...(options.keys ? { keys: options.keys } : {}),
          at: new Date().toISOString(),
        };
        return { partition, key: `replay:${requestId}`, value: JSON.stringify(request) };
      }),
    });
    const results: ReplayResultRecord[] = [];
    if (options.waitMs) {
      const deadline = Date.now() + options.waitMs;
      const waiting = new Set(partitions);
      while (waiting.size > 0 && Date.now() < deadline) {
        for (const partition of [...waiting]) {
          const { records } = await readDeadLetterPartition(
            reader,
            topic,
            partition,
            starts.get(partition) ?? 0,
          );
          const result = records.find(
            (r): r is ReplayResultRecord => r.kind === 'replay-result' && r.requestId === requestId,
          );
          if (result) {
            results.push(result);
            waiting.delete(partition);
          }
        }
        if (waiting.size > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    return { requestId, partitions, results };
  } finally {
    reader.close();
    await producer.disconnect();
  }
}

/** The envelope stored in a dead letter, for replay (null when it was not decodable). */
export function storedEnvelope(record: DeadLetterRecord): EventEnvelope | null {
  return record.event && typeof record.event === 'object' ? (record.event as EventEnvelope) : null;
}
