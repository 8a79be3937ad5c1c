/**
 * The listings commands. Payloads are strict (unknown keys are refused) so that a client's typo such as
 * `price` for `priceCents` is a 400 rather than a silently ignored field.
 */
import type { CommandOf } from '@tidemark/sdk';
import { z } from 'zod';
import { BuyerId, Category, Currency, Description, Location, PriceCents, SellerId, Title } from './values';

/** Sent with expectedVersion "new". */
export const PublishListing = z.strictObject({
  sellerId: SellerId,
  title: Title,
  description: Description,
  category: Category,
  priceCents: PriceCents,
  currency: Currency,
  location: Location,
});
export type PublishListing = z.infer<typeof PublishListing>;

export const ChangePrice = z.strictObject({ priceCents: PriceCents });
export type ChangePrice = z.infer<typeof ChangePrice>;

export const UpdateDetails = z
  .strictObject({
    title: Title.optional(),
    description: Description.optional(),
    location: Location.optional(),
  })
  .refine((details) => Object.values(details).some((value) => value !== undefined), {
    message: 'give at least one of title, description, location',
  });
export type UpdateDetails = z.infer<typeof UpdateDetails>;

export const WithdrawListing = z.strictObject({ reason: z.string().min(1).max(1000).optional() });
export type WithdrawListing = z.infer<typeof WithdrawListing>;

export const MarkSold = z.strictObject({ priceCents: PriceCents, buyerId: BuyerId.optional() });
export type MarkSold = z.infer<typeof MarkSold>;

/** The command schemas by type. */
export const listingCommandSchemas = {
  PublishListing,
  ChangePrice,
  UpdateDetails,
  WithdrawListing,
  MarkSold,
};

export type ListingCommand = CommandOf<typeof listingCommandSchemas>;
export type ListingCommandType = ListingCommand['type'];
