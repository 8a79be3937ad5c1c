/** Value shapes shared by the listings commands and events. */
import { z } from 'zod';

/** A price in minor units (cents), always a positive integer: no floats near money. */
export const PriceCents = z.int().positive();
/** ISO 4217 alphabetic code. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code of three capital letters');

export const SellerId = z.string().min(1).max(200);
export const BuyerId = z.string().min(1).max(200);
export const Title = z.string().min(1).max(200);
export const Description = z.string().max(10_000);
export const Category = z.string().min(1).max(100);

/** Where the item is: enough for filters and facets (country, city), not a geocoded point. */
export const Location = z.object({
  /** ISO 3166-1 alpha-2. */
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code of two capital letters'),
  city: z.string().min(1).max(200),
  postalCode: z.string().min(1).max(20).optional(),
});
export type Location = z.infer<typeof Location>;
