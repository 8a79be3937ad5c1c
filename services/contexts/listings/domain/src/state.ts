/** A listing as the decider needs it. Plain JSON: the processor snapshots it. */
import type { Location } from './values';

export type ListingStatus = 'absent' | 'active' | 'withdrawn' | 'sold';

export type ListingState =
  | { status: 'absent' }
  | {
      status: Exclude<ListingStatus, 'absent'>;
      sellerId: string;
      title: string;
      category: string;
      priceCents: number;
      currency: string;
      location: Location;
    };

export const ABSENT_LISTING: ListingState = { status: 'absent' };
