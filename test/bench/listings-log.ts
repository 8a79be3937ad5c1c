/**
 * The benchmarks' listings log: N deterministic listings events (5 per listing: publish, price, details, price,
 * then withdraw / sell / price), produced straight into listings.events, and a progress line for long phases.
 */
import type { createKafka } from '@tidemark/kafka';
import { partitionForKey } from '@tidemark/kafka';
import type { Producer } from 'kafkajs';
import type { BenchEvent } from './emmett-projection';
import { fmt } from './stats';

export const CONTEXT = 'listings';
export const EVENTS_TOPIC = `${CONTEXT}.events`;
export const PER_AGGREGATE = 5;

// ------------------------------------------------------------------ the events

/** A deterministic uuid (version 7 layout, RFC variant) from a counter. */
export function uuidFor(n: number): string {
  const hex = n.toString(16).padStart(20, '0');
  return `0190a000-${hex.slice(0, 4)}-7${hex.slice(4, 7)}-8${hex.slice(7, 10)}-${hex.slice(10, 20).padStart(12, '0')}`;
}

export const aggregateIdOf = (a: number) => `bench-l-${a}`;
export const sellerOf = (a: number) => `seller-${a % 1000}`;
export const priceAt = (a: number, step: number) => 10_000 + (a % 5000) + step * 100;
export const OCCURRED_AT = '2026-01-01T00:00:00.000Z';

/** Event `step` (0-based) of aggregate `a`: publish, price, details, price, then withdraw/sell/price. */
export function benchEvent(a: number, step: number): BenchEvent {
  const sellerId = sellerOf(a);
  switch (step) {
    case 0:
      return {
        type: 'ListingPublished',
        payload: {
          sellerId,
          title: `Listing ${a}`,
          description: 'A bicycle in good condition, recently serviced',
          category: a % 2 === 0 ? 'bikes' : 'books',
          priceCents: priceAt(a, 0),
          currency: 'EUR',
          location: { country: 'NL', city: 'Utrecht' },
        },
      };
    case 1:
    case 3:
      return {
        type: 'PriceChanged',
        payload: {
          sellerId,
          priceCents: priceAt(a, step),
          previousPriceCents: priceAt(a, step - 1),
          currency: 'EUR',
        },
      };
    case 2:
      return { type: 'DetailsUpdated', payload: { title: `Listing ${a} (updated)` } };
    default:
      if (a % 10 === 0) {
        return {
          type: 'ListingWithdrawn',
          payload: { sellerId, priceCents: priceAt(a, 3), currency: 'EUR' },
        };
      }
      if (a % 10 === 1) {
        return {
          type: 'ListingSold',
          payload: {
            sellerId,
            buyerId: `buyer-${a}`,
            priceCents: priceAt(a, 3) - 50,
            askingPriceCents: priceAt(a, 3),
            currency: 'EUR',
          },
        };
      }
      return {
        type: 'PriceChanged',
        payload: { sellerId, priceCents: priceAt(a, 4), previousPriceCents: priceAt(a, 3), currency: 'EUR' },
      };
  }
}

export function envelope(a: number, step: number, seq: number) {
  const event = benchEvent(a, step);
  const commandId = `bench-c-${a}-${step}`;
  return {
    id: uuidFor(seq),
    type: event.type,
    schemaVersion: event.type === 'ListingPublished' ? 2 : 1,
    aggregate: { type: 'listing', id: aggregateIdOf(a) },
    version: step + 1,
    commandId,
    correlationId: commandId,
    causationId: commandId,
    occurredAt: OCCURRED_AT,
    payload: event.payload,
  };
}

export class EventPlan {
  readonly aggregates: number;
  constructor(
    readonly events: number,
    readonly wave: number,
  ) {
    this.aggregates = Math.ceil(events / PER_AGGREGATE);
  }

  stepsOf(a: number): number {
    return a < this.aggregates - 1 ? PER_AGGREGATE : this.events - PER_AGGREGATE * (this.aggregates - 1);
  }

  /** The log order: waves of aggregates, each wave step by step (versions stay in order per aggregate). */
  *inLogOrder(): Generator<{ a: number; step: number; seq: number }> {
    let seq = 0;
    for (let w = 0; w < this.aggregates; w += this.wave) {
      const end = Math.min(w + this.wave, this.aggregates);
      for (let step = 0; step < PER_AGGREGATE; step++) {
        for (let a = w; a < end; a++) {
          if (step < this.stepsOf(a)) yield { a, step, seq: seq++ };
        }
      }
    }
  }

  *byAggregate(): Generator<{ aggregateId: string; events: BenchEvent[] }> {
    for (let a = 0; a < this.aggregates; a++) {
      const events: BenchEvent[] = [];
      for (let step = 0; step < this.stepsOf(a); step++) events.push(benchEvent(a, step));
      yield { aggregateId: aggregateIdOf(a), events };
    }
  }
}

// ------------------------------------------------------------------ progress

export function progress(label: string, total: number) {
  const started = performance.now();
  let last = 0;
  return {
    tick(done: number) {
      const now = performance.now();
      if (now - last < 2000 && done < total) return;
      last = now;
      const rate = done / ((now - started) / 1000);
      process.stderr.write(
        `  ${label}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} (${fmt((100 * done) / total, 0)}%), ${fmt(rate, 0)} events/s\n`,
      );
    },
    seconds: () => (performance.now() - started) / 1000,
  };
}

// ------------------------------------------------------------------ loading

/** Produces the plan's events into listings.events: one idempotent producer per partition group, in order. */
export async function loadKafka(
  kafka: ReturnType<typeof createKafka>,
  plan: EventPlan,
  partitions: number,
): Promise<void> {
  const producers = Math.min(partitions, 4);
  const clients: Producer[] = [];
  for (let i = 0; i < producers; i++) {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    clients.push(producer);
  }
  const chunk = 5000;
  const chains: Promise<void>[] = clients.map(() => Promise.resolve());
  const pending: number[] = clients.map(() => 0);
  const buckets: { key: string; value: string; partition: number; headers: Record<string, string> }[][] =
    clients.map(() => []);
  const bar = progress('loading listings.events', plan.events);
  let produced = 0;
  const flush = async (k: number) => {
    const messages = buckets[k] as (typeof buckets)[number];
    if (messages.length === 0) return;
    buckets[k] = [];
    pending[k] = (pending[k] as number) + 1;
    chains[k] = (chains[k] as Promise<void>).then(async () => {
      await (clients[k] as Producer).send({ topic: EVENTS_TOPIC, acks: -1, messages });
      pending[k] = (pending[k] as number) - 1;
      produced += messages.length;
      bar.tick(produced);
    });
    // Back-pressure: at most two sends queued per producer.
    if ((pending[k] as number) > 2) await chains[k];
  };
  try {
    for (const { a, step, seq } of plan.inLogOrder()) {
      const env = envelope(a, step, seq);
      const partition = partitionForKey(env.aggregate.id, partitions);
      const k = partition % producers;
      (buckets[k] as (typeof buckets)[number]).push({
        key: env.aggregate.id,
        value: JSON.stringify(env),
        partition,
        headers: {
          type: env.type,
          schemaVersion: String(env.schemaVersion),
          commandId: env.commandId,
          producer: 'read-path-bench',
        },
      });
      if ((buckets[k] as (typeof buckets)[number]).length >= chunk) await flush(k);
    }
    for (let k = 0; k < producers; k++) await flush(k);
    await Promise.all(chains);
  } finally {
    await Promise.all(clients.map((p) => p.disconnect()));
  }
  process.stderr.write(
    `  loaded ${plan.events.toLocaleString('en')} events into ${EVENTS_TOPIC} in ${fmt(bar.seconds())} s\n`,
  );
}

export async function endOffsets(kafka: ReturnType<typeof createKafka>): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(EVENTS_TOPIC);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}
