/**
 * Shared set-up of the projection runtime's int suites (test/projections/runtime-*.int.spec.ts). An embedded
 * broker and Postgres on free ports, a `<ctx>.events` topic with a genesis record, a producer that appends
 * events the way the processor does (transactions, so commit markers leave offset gaps), and a small counter
 * projection with a reference fold.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createKafka, ensureTopicIdentity, PartitionReader, partitionForKey } from '@tidemark/kafka';
import { createPostgresSink } from '@tidemark/projection-postgres';
import type { ProjectionDefinition, Sink } from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import { EventRegistry } from '@tidemark/schemas';
import type { Stack } from '@tidemark/stack';
import { startStack } from '@tidemark/stack';
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import pino from 'pino';
import { z } from 'zod';

export const PARTITIONS = 4;

export interface Harness {
  stack: Stack;
  brokers: string[];
  postgres: string;
  kafka: Kafka;
  logger: Logger;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-runtime-'));
  await chmod(dataDir, 0o755);
  const logger = pino({ level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const stack = await startStack({
    dataDir,
    components: ['broker', 'postgres'],
    ports: { broker: 0, postgres: 0 },
    metricsPort: null,
    handleSignals: false,
    logger,
  });
  const brokers = [stack.endpoints.broker ?? ''];
  return {
    stack,
    brokers,
    postgres: stack.endpoints.postgres ?? '',
    kafka: createKafka({ brokers, clientId: 'runtime-test', logger }),
    logger,
    async close() {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `Added` v1 had `n`; v2 renamed it `amount` (exercises upcasting on read). */
export const registry = new EventRegistry([
  {
    type: 'Added',
    versions: [
      { version: 1, schema: z.object({ n: z.number().int(), poison: z.boolean().optional() }) },
      {
        version: 2,
        schema: z.object({ amount: z.number().int(), poison: z.boolean().optional() }),
        upcast: (previous) => {
          const p = previous as { n: number; poison?: boolean };
          return { amount: p.n, ...(p.poison ? { poison: true } : {}) };
        },
      },
    ],
  },
  { type: 'Deleted', versions: [{ version: 1, schema: z.object({}) }] },
  { type: 'Ignored', versions: [{ version: 1, schema: z.object({}) }] },
]);

export type CounterDoc = { total: number; count: number; lastVersion: number };

/** A counter per aggregate; `isPoison` decides which events throw (mutable, to "deploy a fix"). */
export function counterProjection(
  context: string,
  failurePolicy: 'stop' | 'dead-letter',
  isPoison: (event: EventEnvelope) => boolean,
  version = 1,
): ProjectionDefinition<CounterDoc> {
  return {
    context,
    // Sink targets are named by projection name and version: one name per context keeps suites apart.
    name: `counter-${context}`,
    version,
    store: 'postgres',
    keyScope: 'aggregate',
    eventTypes: ['Added', 'Deleted'],
    failurePolicy,
    keys: (event) => [event.aggregate.id],
    apply: (current, event) => {
      if (isPoison(event)) throw new Error(`poison event ${event.aggregate.id} v${event.version}`);
      return referenceApply(current, event);
    },
  };
}

export function referenceApply(current: CounterDoc | null, event: EventEnvelope): CounterDoc | null {
  if (event.type === 'Deleted') return null;
  const { amount } = event.payload as { amount: number };
  return {
    total: (current?.total ?? 0) + amount,
    count: (current?.count ?? 0) + 1,
    lastVersion: event.version,
  };
}

export function isMarkedPoison(event: EventEnvelope): boolean {
  return (event.payload as { poison?: boolean }).poison === true;
}

export function postgresSink(
  h: Harness,
  definition: ProjectionDefinition<CounterDoc>,
  options: { publishWatermarks?: boolean } = {},
): Sink<CounterDoc> {
  return createPostgresSink(definition, { connectionString: h.postgres, ...options });
}

export interface Produced {
  partition: number;
  offset: number;
  event: EventEnvelope;
}

/** Appends events like the processor: per partition, one transaction per call; keeps the aggregate versions. */
export class EventLog {
  readonly produced: Produced[] = [];
  private readonly versions = new Map<string, number>();
  private producer: Producer | null = null;

  constructor(
    private readonly h: Harness,
    readonly context: string,
  ) {}

  get topic(): string {
    return `${this.context}.events`;
  }

  async create(): Promise<void> {
    const admin = this.h.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: this.topic, numPartitions: PARTITIONS, replicationFactor: -1 }],
      });
    } finally {
      await admin.disconnect();
    }
    const reader = PartitionReader.create(this.h.brokers);
    try {
      await ensureTopicIdentity(this.h.kafka, reader, this.topic);
    } finally {
      reader.close();
    }
    this.producer = this.h.kafka.producer({
      transactionalId: `runtime-test-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await this.producer.connect();
  }

  /** Appends events; `legacy` writes `Added` at schema version 1. Returns their positions. */
  async append(
    items: { id: string; type?: string; amount?: number; poison?: boolean; legacy?: boolean }[],
  ): Promise<Produced[]> {
    if (!this.producer) throw new Error('create() first');
    const byPartition = new Map<number, { envelope: EventEnvelope }[]>();
    for (const item of items) {
      const version = (this.versions.get(item.id) ?? 0) + 1;
      this.versions.set(item.id, version);
      const type = item.type ?? 'Added';
      const payload =
        type === 'Added'
          ? item.legacy
            ? { n: item.amount ?? 1, ...(item.poison ? { poison: true } : {}) }
            : { amount: item.amount ?? 1, ...(item.poison ? { poison: true } : {}) }
          : {};
      const envelope: EventEnvelope = {
        id: randomUUID(),
        type,
        schemaVersion: type === 'Added' && !item.legacy ? 2 : 1,
        aggregate: { type: 'counter', id: item.id },
        version,
        commandId: randomUUID(),
        correlationId: 'test',
        causationId: 'test',
        occurredAt: new Date().toISOString(),
        payload,
      };
      const partition = partitionForKey(item.id, PARTITIONS);
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), { envelope }]);
    }
    const out: Produced[] = [];
    const transaction = await this.producer.transaction();
    const results = [];
    for (const [partition, list] of byPartition) {
      results.push(
        await transaction.send({
          topic: this.topic,
          messages: list.map(({ envelope }) => ({
            partition,
            key: envelope.aggregate.id,
            value: JSON.stringify(envelope),
            headers: { type: envelope.type, schemaVersion: String(envelope.schemaVersion) },
          })),
        }),
      );
      const base = Number(results.at(-1)?.[0]?.baseOffset);
      list.forEach(({ envelope }, i) => {
        out.push({ partition, offset: base + i, event: envelope });
      });
    }
    await transaction.commit();
    this.produced.push(...out);
    return out;
  }

  /** partition -> offset just past the last event appended (a token for everything so far). */
  ends(): Map<number, number> {
    const ends = new Map<number, number>();
    for (const p of this.produced) ends.set(p.partition, Math.max(ends.get(p.partition) ?? 0, p.offset + 1));
    return ends;
  }

  /** The reference fold of what was appended (events upcast like the registry does). */
  expected(filter: (p: Produced) => boolean = () => true): Map<string, CounterDoc | null> {
    const docs = new Map<string, CounterDoc | null>();
    for (const p of [...this.produced].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
      if (!filter(p)) continue;
      const payload = registry.read(p.event.type, p.event.schemaVersion, p.event.payload);
      if (p.event.type === 'Ignored') continue;
      docs.set(
        p.event.aggregate.id,
        referenceApply(docs.get(p.event.aggregate.id) ?? null, { ...p.event, payload }),
      );
    }
    return docs;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

/** Reads every expected key from the sink and returns the differences (empty when the view equals the fold). */
export async function diffView(
  sink: Sink<CounterDoc>,
  expected: Map<string, CounterDoc | null>,
): Promise<string[]> {
  const diffs: string[] = [];
  for (const [key, doc] of expected) {
    const stored = await sink.read(partitionForKey(key, PARTITIONS), key);
    const actual = typeof stored === 'string' ? null : stored.doc;
    if (!isDeepStrictEqual(actual, doc)) {
      diffs.push(`${key}: expected ${JSON.stringify(doc)}, got ${JSON.stringify(stored)}`);
    }
  }
  return diffs;
}

export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
