/**
 * A projection catalog module (`tidemark ... --catalog <this file's .js>`) for the replay-and-cutover scenario:
 * version 1 of each listings projection has a deliberate bug, version 2 is the fixed code (the built-in fold).
 *
 * The bug: a listing published in the category BUGGY_CATEGORY has its price read in whole euros instead of
 * cents (the stored price is a hundredth of the real one). A later PriceChanged carries the right amount, so only
 * listings whose price was never changed stay wrong in the detail, card and search views; the seller counters
 * stay wrong for every seller who published in that category (withdrawals and sales subtract the right amount).
 */
import {
  createListingCardProjection,
  createListingDetailProjection,
  createListingSearchProjection,
  createSellerStatsProjection,
} from '@tidemark/listings-projections';
import type { ProjectionDefinition, ProjectionDocument } from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';

export const BUGGY_CATEGORY = 'vintage';

/** The event as the buggy code reads it. */
export function misreadPrice(event: EventEnvelope): EventEnvelope {
  if (event.type !== 'ListingPublished') return event;
  const payload = event.payload as { category?: unknown; priceCents?: unknown };
  if (payload.category !== BUGGY_CATEGORY || typeof payload.priceCents !== 'number') return event;
  return { ...event, payload: { ...payload, priceCents: Math.max(1, Math.round(payload.priceCents / 100)) } };
}

function withPriceBug<D extends ProjectionDocument>(fixed: ProjectionDefinition<D>): ProjectionDefinition<D> {
  return {
    ...fixed,
    version: 1,
    apply: (current, event, key) => fixed.apply(current, misreadPrice(event), key),
  };
}

const fixed = [
  createListingDetailProjection({ version: 2 }),
  createSellerStatsProjection({ version: 2 }),
  createListingCardProjection({ version: 2 }),
  createListingSearchProjection({ version: 2 }),
] as unknown as ProjectionDefinition[];

/** Buggy v1 and fixed v2 of every listings projection. */
export const projections: ProjectionDefinition[] = [...fixed.map((d) => withPriceBug(d)), ...fixed];

/** The pair of one projection, for in-memory folds in tests. */
export function versionsOf(name: string): { buggy: ProjectionDefinition; fixed: ProjectionDefinition } {
  const buggy = projections.find((d) => d.name === name && d.version === 1);
  const good = projections.find((d) => d.name === name && d.version === 2);
  if (!buggy || !good) throw new Error(`no versions of ${name} in the price-bug catalog`);
  return { buggy, fixed: good };
}
