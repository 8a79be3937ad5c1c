/**
 * Synthetic events and two small pure test projections for sink tests: no broker, no context code.
 */
import type { ProjectionDefinition, StoreKind } from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';

/** An event as the log holds it: the envelope at `offset` of `partition`. */
export interface LogEvent {
  partition: number;
  offset: number;
  event: EventEnvelope;
}

let envelopeSeq = 0;

/** A deterministic uuid-shaped id (version 7 nibble), unique within the process. */
function syntheticId(): string {
  envelopeSeq += 1;
  const hex = envelopeSeq.toString(16).padStart(20, '0');
  return `00000000-0000-7${hex.slice(0, 3)}-8${hex.slice(3, 6)}-${hex.slice(8, 20)}`;
}

export interface EnvelopeSpec {
  type: string;
  aggregateId: string;
  /** Aggregate version, 1-based. */
  version: number;
  payload?: unknown;
  aggregateType?: string;
}

export function makeEnvelope(spec: EnvelopeSpec): EventEnvelope {
  const id = syntheticId();
  return {
    id,
    type: spec.type,
    schemaVersion: 1,
    aggregate: { type: spec.aggregateType ?? 'item', id: spec.aggregateId },
    version: spec.version,
    commandId: `cmd-${id}`,
    correlationId: `cor-${id}`,
    causationId: `cmd-${id}`,
    // Informational only; fixed so logs are reproducible.
    occurredAt: '2024-01-01T00:00:00.000Z',
    payload: spec.payload ?? {},
  };
}

/** Places envelopes on a partition's log at consecutive offsets starting at `from`. */
export function atOffsets(partition: number, events: readonly EventEnvelope[], from = 0): LogEvent[] {
  return events.map((event, i) => ({ partition, offset: from + i, event }));
}

/** mulberry32: a tiny seeded PRNG so generated logs are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable small hash (not murmur2: sinks do not care which partition a key maps to, only the log does). */
export function testPartitionOf(key: string, partitions: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % partitions;
}

export const ITEM_ADDED = 'ItemAdded';
export const ITEM_DELETED = 'ItemDeleted';
/** A type neither test projection reads: it still takes an offset (and advances checkpoints). */
export const ITEM_NOTED = 'ItemNoted';

export interface ItemAddedPayload {
  amount: number;
  group: string;
  category: string;
}

export interface GenerateLogOptions {
  partitions: number;
  /** Events in total, over every partition. */
  events: number;
  /** Aggregate ids to use (default: `item-0`..`item-<aggregates-1>`). */
  aggregateIds?: readonly string[];
  aggregates?: number;
  groups?: number;
  seed?: number;
}

/**
 * A random but reproducible log: ItemAdded (most), ItemDeleted (an aggregate may be re-added afterwards) and
 * ItemNoted (ignored by the projections). Each aggregate lives in testPartitionOf(id); offsets are gapless.
 */
export function generateLog(options: GenerateLogOptions): LogEvent[] {
  const random = seededRandom(options.seed ?? 1);
  const ids = options.aggregateIds ?? Array.from({ length: options.aggregates ?? 50 }, (_, i) => `item-${i}`);
  const groups = options.groups ?? 5;
  const versions = new Map<string, number>();
  const nextOffset = new Map<number, number>();
  const log: LogEvent[] = [];
  for (let n = 0; n < options.events; n++) {
    const id = ids[Math.floor(random() * ids.length)] as string;
    const version = (versions.get(id) ?? 0) + 1;
    versions.set(id, version);
    const roll = random();
    const type = roll < 0.8 ? ITEM_ADDED : roll < 0.9 ? ITEM_DELETED : ITEM_NOTED;
    const payload: ItemAddedPayload | Record<string, never> =
      type === ITEM_ADDED
        ? {
            amount: 1 + Math.floor(random() * 100),
            group: `group-${Math.floor(random() * groups)}`,
            category: ['bikes', 'books', 'boats'][Math.floor(random() * 3)] as string,
          }
        : {};
    const partition = testPartitionOf(id, options.partitions);
    const offset = nextOffset.get(partition) ?? 0;
    nextOffset.set(partition, offset + 1);
    log.push({ partition, offset, event: makeEnvelope({ type, aggregateId: id, version, payload }) });
  }
  return log;
}

/** Document of the counter projection: one per aggregate. */
export type CounterDoc = {
  id: string;
  count: number;
  total: number;
  category: string;
  lastVersion: number;
  /** Nested data and odd strings, so stores round-trip real JSON. */
  meta: { history: number[]; note: string };
};

/**
 * keyScope 'aggregate': per aggregate, how many ItemAdded and their amount sum; ItemDeleted deletes the
 * document (null), and a later ItemAdded starts over. Indexes `category`.
 */
export function counterProjection(
  name: string,
  version = 1,
  store: StoreKind = 'postgres',
): ProjectionDefinition<CounterDoc> {
  return {
    context: 'contract',
    name,
    version,
    store,
    keyScope: 'aggregate',
    eventTypes: [ITEM_ADDED, ITEM_DELETED],
    failurePolicy: 'stop',
    indexes: ['category'],
    keys: (event) => [event.aggregate.id],
    apply(current, event) {
      if (event.type === ITEM_DELETED) return null;
      const payload = event.payload as ItemAddedPayload;
      const history = [...(current?.meta.history ?? []), payload.amount].slice(-5);
      return {
        id: event.aggregate.id,
        count: (current?.count ?? 0) + 1,
        total: (current?.total ?? 0) + payload.amount,
        category: payload.category,
        lastVersion: event.version,
        meta: { history, note: `it's "${event.aggregate.id}" ✓` },
      };
    },
  };
}

/** Document of the group totals projection: one sub-document per (group, partition). */
export type GroupTotalsDoc = { group: string; count: number; sum: number };

/**
 * keyScope 'all': per group (a key fed by aggregates of every partition), ItemAdded count and amount sum.
 * Each partition keeps its own sub-document; merge adds them up.
 */
export function groupTotalsProjection(
  name: string,
  version = 1,
  store: StoreKind = 'postgres',
): ProjectionDefinition<GroupTotalsDoc> {
  return {
    context: 'contract',
    name,
    version,
    store,
    keyScope: 'all',
    eventTypes: [ITEM_ADDED],
    failurePolicy: 'stop',
    indexes: ['group'],
    keys: (event) => [(event.payload as ItemAddedPayload).group],
    apply(current, event, key) {
      const payload = event.payload as ItemAddedPayload;
      return { group: key, count: (current?.count ?? 0) + 1, sum: (current?.sum ?? 0) + payload.amount };
    },
    merge(parts) {
      const group = parts[0]?.group ?? '';
      return parts.reduce((acc, p) => ({ group, count: acc.count + p.count, sum: acc.sum + p.sum }), {
        group,
        count: 0,
        sum: 0,
      });
    },
  };
}
