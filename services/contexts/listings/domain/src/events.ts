/**
 * The listings events. Every event that moves money or status carries the seller and the amounts involved, so
 * that a projection (e.g. per-seller counters of active listings and total asking value) can apply it from the
 * event alone, without reading the listing's earlier events.
 *
 * ListingPublished has two schema versions: v1 (the first release) had no currency, because every listing was
 * in euros; v2 names it. v1 events are upcast by filling in 'EUR'.
 */
import { type EventOf, versioned } from '@tidemark/sdk';
import { z } from 'zod';
import { BuyerId, Category, Currency, Description, Location, PriceCents, SellerId, Title } from './values';

export const ListingPublishedV1 = z.object({
  sellerId: SellerId,
  title: Title,
  description: Description,
  category: Category,
  priceCents: PriceCents,
  location: Location,
});
export type ListingPublishedV1 = z.infer<typeof ListingPublishedV1>;

export const ListingPublished = ListingPublishedV1.extend({ currency: Currency });
export type ListingPublished = z.infer<typeof ListingPublished>;

/** The currency every listing had before v2 made it explicit. */
export const V1_CURRENCY = 'EUR';

export function upcastListingPublishedV1(previous: ListingPublishedV1): ListingPublished {
  return { ...previous, currency: V1_CURRENCY };
}

export const PriceChanged = z.object({
  sellerId: SellerId,
  priceCents: PriceCents,
  previousPriceCents: PriceCents,
  currency: Currency,
});
export type PriceChanged = z.infer<typeof PriceChanged>;

/** Only the fields that were given; at least one. */
export const DetailsUpdated = z
  .object({ title: Title.optional(), description: Description.optional(), location: Location.optional() })
  .refine((details) => Object.values(details).some((value) => value !== undefined), {
    message: 'at least one of title, description, location',
  });
export type DetailsUpdated = z.infer<typeof DetailsUpdated>;

export const ListingWithdrawn = z.object({
  sellerId: SellerId,
  reason: z.string().min(1).max(1000).optional(),
  /** The asking price at the time, which leaves the seller's total asking value. */
  priceCents: PriceCents,
  currency: Currency,
});
export type ListingWithdrawn = z.infer<typeof ListingWithdrawn>;

export const ListingSold = z.object({
  sellerId: SellerId,
  buyerId: BuyerId.optional(),
  /** The price it sold for (may differ from the asking price). */
  priceCents: PriceCents,
  /** The asking price at the time, which leaves the seller's total asking value. */
  askingPriceCents: PriceCents,
  currency: Currency,
});
export type ListingSold = z.infer<typeof ListingSold>;

/** The event schemas by type; ListingPublished in two versions (v1 upcast by filling in the currency). */
export const listingEventSchemas = {
  ListingPublished: versioned(ListingPublishedV1).next(ListingPublished, upcastListingPublishedV1),
  PriceChanged,
  DetailsUpdated,
  ListingWithdrawn,
  ListingSold,
};

export type ListingEvent = EventOf<typeof listingEventSchemas>;
export type ListingEventType = ListingEvent['type'];
