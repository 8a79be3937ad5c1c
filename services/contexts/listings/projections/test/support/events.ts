/** Builders of listings event envelopes for the fold tests, and a generator of random valid histories. */
import type { EventEnvelope } from '@tidemark/schemas';

let counter = 0;

export function envelope(
  aggregateId: string,
  version: number,
  type: string,
  payload: unknown,
  schemaVersion = type === 'ListingPublished' ? 2 : 1,
): EventEnvelope {
  counter++;
  return {
    id: `01890000-0000-7000-8000-${String(counter).padStart(12, '0')}`,
    type,
    schemaVersion,
    aggregate: { type: 'listing', id: aggregateId },
    version,
    commandId: `cmd-${counter}`,
    correlationId: `corr-${counter}`,
    causationId: `cause-${counter}`,
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, counter)).toISOString(),
    payload,
  };
}

export const published = (overrides: Record<string, unknown> = {}) => ({
  sellerId: 'seller-1',
  title: 'Blue bicycle',
  description: 'Barely used',
  category: 'bikes',
  priceCents: 10_000,
  currency: 'EUR',
  location: { country: 'NL', city: 'Utrecht', postalCode: '3511' },
  ...overrides,
});

/** A deterministic PRNG (mulberry32), so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;

/**
 * A random history of one listing that the decider could have produced: published first, then price changes
 * and detail updates while active, possibly ending withdrawn or sold. Sometimes a v1 ListingPublished (no
 * currency: upcast to EUR).
 */
export function randomHistory(rnd: () => number, aggregateId: string, sellerId: string): EventEnvelope[] {
  const v1 = rnd() < 0.2;
  const currency = v1 ? 'EUR' : pick(rnd, ['EUR', 'USD', 'GBP']);
  let price = 1 + Math.floor(rnd() * 100_000);
  const first = published({
    sellerId,
    title: `title ${Math.floor(rnd() * 1000)}`,
    category: pick(rnd, ['bikes', 'cars', 'homes']),
    priceCents: price,
    currency,
    location: { country: pick(rnd, ['NL', 'DE', 'FR']), city: pick(rnd, ['A', 'B', 'C']) },
  });
  if (v1) delete (first as { currency?: string }).currency;
  const events = [envelope(aggregateId, 1, 'ListingPublished', first, v1 ? 1 : 2)];
  const changes = Math.floor(rnd() * 6);
  for (let i = 0; i < changes; i++) {
    const version = events.length + 1;
    if (rnd() < 0.5) {
      let next = 1 + Math.floor(rnd() * 100_000);
      if (next === price) next++;
      events.push(
        envelope(aggregateId, version, 'PriceChanged', {
          sellerId,
          priceCents: next,
          previousPriceCents: price,
          currency,
        }),
      );
      price = next;
    } else {
      const details: Record<string, unknown> = {};
      if (rnd() < 0.5) details.title = `retitled ${i}`;
      if (rnd() < 0.5) details.description = `described ${i}`;
      if (rnd() < 0.5 || Object.keys(details).length === 0) {
        details.location = { country: pick(rnd, ['NL', 'BE']), city: pick(rnd, ['X', 'Y']) };
      }
      events.push(envelope(aggregateId, version, 'DetailsUpdated', details));
    }
  }
  const end = rnd();
  const version = events.length + 1;
  if (end < 0.25) {
    events.push(
      envelope(aggregateId, version, 'ListingWithdrawn', {
        sellerId,
        ...(rnd() < 0.5 ? { reason: 'changed my mind' } : {}),
        priceCents: price,
        currency,
      }),
    );
  } else if (end < 0.5) {
    events.push(
      envelope(aggregateId, version, 'ListingSold', {
        sellerId,
        ...(rnd() < 0.5 ? { buyerId: 'buyer-1' } : {}),
        priceCents: Math.max(1, price - 100),
        askingPriceCents: price,
        currency,
      }),
    );
  }
  return events;
}

/** Interleaves histories keeping each one's order (as a partition of the log does). */
export function interleave(rnd: () => number, histories: EventEnvelope[][]): EventEnvelope[] {
  const queues = histories.map((h) => [...h]);
  const out: EventEnvelope[] = [];
  for (;;) {
    const open = queues.filter((q) => q.length > 0);
    if (open.length === 0) return out;
    out.push(pick(rnd, open).shift() as EventEnvelope);
  }
}
