/**
 * The listings context's projections (DESIGN.md, The example context): a Postgres detail view, Redis per-seller
 * counters and Memcached listing cards. Pure: each is a fold of the listings events, with no I/O.
 */
import type { Location } from '@tidemark/listings';
import { Location as LocationSchema, listingsContext } from '@tidemark/listings';
import type { FailurePolicy, ProjectionDefinition, SideEffect } from '@tidemark/sdk';
import { defineProjection } from '@tidemark/sdk';
import { z } from 'zod';
import type { ListingEventEnvelope } from './events';
import { LISTING_EVENT_TYPES } from './events';

export const LISTING_DETAIL_PROJECTION = 'listing-detail';
export const SELLER_STATS_PROJECTION = 'seller-stats';
export const LISTING_CARD_PROJECTION = 'listing-card';

export const ListingViewStatus = z.enum(['active', 'withdrawn', 'sold']);
export type ListingViewStatus = z.infer<typeof ListingViewStatus>;
export type ListingLocation = Location;

/** The full listing (Postgres). */
export const ListingDetail = z.object({
  id: z.string(),
  sellerId: z.string(),
  title: z.string(),
  description: z.string(),
  category: z.string(),
  priceCents: z.int(),
  currency: z.string(),
  location: LocationSchema,
  status: ListingViewStatus,
  /** The aggregate version of the last event applied. */
  version: z.int().describe('Aggregate version of the last event applied'),
  /** occurredAt of ListingPublished (informational). */
  publishedAt: z.string(),
  /** occurredAt of the last event applied (informational). */
  updatedAt: z.string(),
  /** Set once sold: the price it sold for. */
  soldPriceCents: z.int().optional(),
  buyerId: z.string().optional(),
  withdrawReason: z.string().optional(),
});
export type ListingDetail = z.infer<typeof ListingDetail>;

/**
 * One partition's share of a seller's counters (Redis, keyScope 'all'): only that partition's listings of the
 * seller. A read merges the partitions' sub-documents with `merge`.
 */
export const SellerStats = z.object({
  sellerId: z.string(),
  /** Listings currently active. */
  activeListings: z.int(),
  /** Sum of the asking prices of the active listings, per currency (ISO 4217); currencies at zero are left out. */
  askingValueCents: z
    .record(z.string(), z.int())
    .describe('Total asking price of the active listings per currency'),
  soldListings: z.int(),
  withdrawnListings: z.int(),
});
export type SellerStats = z.infer<typeof SellerStats>;

/** A small card for result lists (Memcached). */
export const ListingCard = z.object({
  id: z.string(),
  title: z.string(),
  priceCents: z.int(),
  currency: z.string(),
  city: z.string(),
  country: z.string(),
  status: ListingViewStatus,
  category: z.string(),
  /** The aggregate version of the last event applied. */
  version: z.int(),
});
export type ListingCard = z.infer<typeof ListingCard>;

export interface ListingProjectionOptions {
  /** Default 1. */
  version?: number;
  /** Default 'stop'. */
  failurePolicy?: FailurePolicy;
}

/**
 * An event at or below the document's aggregate version was applied already: keep the document. Sinks refuse
 * stale writes by position already; this also makes the fold itself idempotent.
 */
const alreadyApplied = (current: { version: number } | null, event: ListingEventEnvelope) =>
  current !== null && event.version <= current.version;

/** The detail fold. Events are facts: they apply whatever the status (the decider only emits valid ones). */
export function applyListingDetail(
  current: ListingDetail | null,
  event: ListingEventEnvelope,
): ListingDetail | null {
  if (alreadyApplied(current, event)) return current;
  const stamp = { version: event.version, updatedAt: event.occurredAt };
  if (event.type === 'ListingPublished') {
    // A listing is published once; a second ListingPublished (never emitted) does not reset it.
    if (current) return { ...current, ...stamp };
    const { sellerId, title, description, category, priceCents, currency, location } = event.payload;
    return {
      id: event.aggregate.id,
      sellerId,
      title,
      description,
      category,
      priceCents,
      currency,
      location,
      status: 'active',
      version: event.version,
      publishedAt: event.occurredAt,
      updatedAt: event.occurredAt,
    };
  }
  // An event for a listing never published (impossible from the decider): nothing to show.
  if (!current) return null;
  switch (event.type) {
    case 'PriceChanged':
      return { ...current, ...stamp, priceCents: event.payload.priceCents, currency: event.payload.currency };
    case 'DetailsUpdated': {
      const { title, description, location } = event.payload;
      return {
        ...current,
        ...stamp,
        ...(title !== undefined ? { title } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(location !== undefined ? { location } : {}),
      };
    }
    case 'ListingWithdrawn': {
      const { reason } = event.payload;
      return {
        ...current,
        ...stamp,
        status: 'withdrawn',
        ...(reason !== undefined ? { withdrawReason: reason } : {}),
      };
    }
    case 'ListingSold': {
      const { buyerId, priceCents } = event.payload;
      return {
        ...current,
        ...stamp,
        status: 'sold',
        soldPriceCents: priceCents,
        ...(buyerId !== undefined ? { buyerId } : {}),
      };
    }
    default:
      return current;
  }
}

/** The card a detail shows: the query API derives it from Postgres when memcached has lost a card. */
export function cardFromDetail(detail: ListingDetail): ListingCard;
export function cardFromDetail(detail: ListingDetail | null): ListingCard | null;
export function cardFromDetail(detail: ListingDetail | null): ListingCard | null {
  if (!detail) return null;
  return {
    id: detail.id,
    title: detail.title,
    priceCents: detail.priceCents,
    currency: detail.currency,
    city: detail.location.city,
    country: detail.location.country,
    status: detail.status,
    category: detail.category,
    version: detail.version,
  };
}

/** The card fold: its own fold over the events (not through the detail), kept equal to cardFromDetail by tests. */
export function applyListingCard(
  current: ListingCard | null,
  event: ListingEventEnvelope,
): ListingCard | null {
  if (alreadyApplied(current, event)) return current;
  if (event.type === 'ListingPublished') {
    if (current) return { ...current, version: event.version };
    const { title, category, priceCents, currency, location } = event.payload;
    return {
      id: event.aggregate.id,
      title,
      priceCents,
      currency,
      city: location.city,
      country: location.country,
      status: 'active',
      category,
      version: event.version,
    };
  }
  if (!current) return null;
  const version = event.version;
  switch (event.type) {
    case 'PriceChanged':
      return { ...current, version, priceCents: event.payload.priceCents, currency: event.payload.currency };
    case 'DetailsUpdated': {
      const { title, location } = event.payload;
      return {
        ...current,
        version,
        ...(title !== undefined ? { title } : {}),
        ...(location !== undefined ? { city: location.city, country: location.country } : {}),
      };
    }
    case 'ListingWithdrawn':
      return { ...current, version, status: 'withdrawn' };
    case 'ListingSold':
      return { ...current, version, status: 'sold' };
    default:
      return current;
  }
}

export function emptySellerStats(sellerId: string): SellerStats {
  return { sellerId, activeListings: 0, askingValueCents: {}, soldListings: 0, withdrawnListings: 0 };
}

function addValue(values: Record<string, number>, currency: string, delta: number): Record<string, number> {
  const next = { ...values };
  const sum = (next[currency] ?? 0) + delta;
  if (sum === 0) delete next[currency];
  else next[currency] = sum;
  return next;
}

/**
 * The per-partition counters fold. Every event that moves money carries the amounts (the asking price leaving on
 * withdraw or sale, the previous price on a change), so the fold needs no listing state. PriceChanged only
 * happens to an active listing (decider rule), so its delta always belongs to the asking value.
 */
export function applySellerStats(
  current: SellerStats | null,
  event: ListingEventEnvelope,
  key: string,
): SellerStats | null {
  if (event.type === 'DetailsUpdated') return current;
  const stats = current ?? emptySellerStats(key);
  switch (event.type) {
    case 'ListingPublished':
      return {
        ...stats,
        activeListings: stats.activeListings + 1,
        askingValueCents: addValue(stats.askingValueCents, event.payload.currency, event.payload.priceCents),
      };
    case 'PriceChanged':
      return {
        ...stats,
        askingValueCents: addValue(
          stats.askingValueCents,
          event.payload.currency,
          event.payload.priceCents - event.payload.previousPriceCents,
        ),
      };
    case 'ListingWithdrawn':
      return {
        ...stats,
        activeListings: stats.activeListings - 1,
        withdrawnListings: stats.withdrawnListings + 1,
        askingValueCents: addValue(stats.askingValueCents, event.payload.currency, -event.payload.priceCents),
      };
    case 'ListingSold':
      return {
        ...stats,
        activeListings: stats.activeListings - 1,
        soldListings: stats.soldListings + 1,
        askingValueCents: addValue(
          stats.askingValueCents,
          event.payload.currency,
          -event.payload.askingPriceCents,
        ),
      };
    default:
      return stats;
  }
}

/** Sums the partitions' sub-documents of one seller. */
export function mergeSellerStats(parts: readonly SellerStats[]): SellerStats {
  let merged = emptySellerStats(parts[0]?.sellerId ?? '');
  for (const part of parts) {
    let values = merged.askingValueCents;
    for (const [currency, cents] of Object.entries(part.askingValueCents))
      values = addValue(values, currency, cents);
    merged = {
      sellerId: merged.sellerId,
      activeListings: merged.activeListings + part.activeListings,
      askingValueCents: values,
      soldListings: merged.soldListings + part.soldListings,
      withdrawnListings: merged.withdrawnListings + part.withdrawnListings,
    };
  }
  return merged;
}

/** Kind of the side effect that tells a seller their listing sold. */
export const LISTING_SOLD_NOTIFICATION = 'notify-seller.listing-sold';

/**
 * Side effects of the detail projection: a sold listing notifies its seller (once per ListingSold, whichever
 * version of the projection is active; the outbox keys it by event position and `key`).
 */
export function listingDetailEffects(event: ListingEventEnvelope): SideEffect[] {
  if (event.type !== 'ListingSold') return [];
  const { sellerId, buyerId, priceCents, currency } = event.payload;
  return [
    {
      kind: LISTING_SOLD_NOTIFICATION,
      key: 'notify-seller',
      payload: { listingId: event.aggregate.id, sellerId, buyerId: buyerId ?? null, priceCents, currency },
    },
  ];
}

const base = (options: ListingProjectionOptions = {}) => {
  const failurePolicy: FailurePolicy = options.failurePolicy ?? 'stop';
  return {
    context: listingsContext,
    version: options.version ?? 1,
    failurePolicy,
    events: LISTING_EVENT_TYPES,
  };
};

export function createListingDetailProjection(
  options?: ListingProjectionOptions,
): ProjectionDefinition<ListingDetail> {
  return defineProjection({
    ...base(options),
    name: LISTING_DETAIL_PROJECTION,
    store: 'postgres',
    indexes: ['sellerId', 'category', 'status'],
    document: ListingDetail,
    apply: applyListingDetail,
    effects: listingDetailEffects,
  });
}

export function createSellerStatsProjection(
  options?: ListingProjectionOptions,
): ProjectionDefinition<SellerStats> {
  return defineProjection({
    ...base(options),
    name: SELLER_STATS_PROJECTION,
    store: 'redis',
    keyScope: 'all',
    events: ['ListingPublished', 'PriceChanged', 'ListingWithdrawn', 'ListingSold'],
    // Every stats event carries the seller it counts for.
    key: (event) => event.payload.sellerId,
    document: SellerStats,
    apply: applySellerStats,
    merge: mergeSellerStats,
  });
}

export function createListingCardProjection(
  options?: ListingProjectionOptions,
): ProjectionDefinition<ListingCard> {
  return defineProjection({
    ...base(options),
    name: LISTING_CARD_PROJECTION,
    store: 'memcached',
    document: ListingCard,
    apply: applyListingCard,
  });
}

export interface ListingProjections {
  detail: ProjectionDefinition<ListingDetail>;
  sellerStats: ProjectionDefinition<SellerStats>;
  card: ProjectionDefinition<ListingCard>;
}

/** The three projections with the same version and failure policy. */
export function listingProjections(options?: ListingProjectionOptions): ListingProjections {
  return {
    detail: createListingDetailProjection(options),
    sellerStats: createSellerStatsProjection(options),
    card: createListingCardProjection(options),
  };
}

export const listingDetailProjection = createListingDetailProjection();
export const sellerStatsProjection = createSellerStatsProjection();
export const listingCardProjection = createListingCardProjection();
