/**
 * The listing search view (Elasticsearch): one flat document per listing, full text over title and description,
 * filters and facets over the keyword fields. The fold is the detail fold (applyListingDetail) seen through a
 * flat document, so search and detail can never disagree on what an event does.
 */

import { listingsContext } from '@tidemark/listings';
import type { ProjectionDefinition, SearchMappings } from '@tidemark/sdk';
import { date, defineProjection, integer, keyword, long, text } from '@tidemark/sdk';
import { z } from 'zod';
import type { ListingEventEnvelope } from './events';
import { LISTING_EVENT_TYPES } from './events';
import type { ListingDetail, ListingProjectionOptions } from './projections';
import { applyListingDetail, ListingViewStatus } from './projections';

export const LISTING_SEARCH_PROJECTION = 'listing-search';

/** A listing as the search index holds it (flat: every filter is a top-level keyword field). */
export const ListingSearchDocument = z.object({
  id: z.string(),
  sellerId: z.string(),
  title: z.string(),
  description: z.string(),
  category: z.string(),
  priceCents: z.int(),
  currency: z.string(),
  city: z.string(),
  country: z.string(),
  postalCode: z.string().optional(),
  status: ListingViewStatus,
  publishedAt: z.string(),
  updatedAt: z.string(),
  /** The aggregate version of the last event applied. */
  version: z.int(),
});
export type ListingSearchDocument = z.infer<typeof ListingSearchDocument>;

/**
 * The index mappings: full text (standard analysis) over title and description; the filters' keyword fields
 * carry a lowercase multi-field (`city.lowercase`), so `city=berlin` finds Berlin while facets keep the case.
 */
export const LISTING_SEARCH_MAPPINGS: SearchMappings<ListingSearchDocument> = {
  id: keyword(),
  sellerId: keyword(),
  // `title.raw`: exact title, for sorting or exact matches.
  title: text({ raw: true }),
  description: text(),
  category: keyword({ normalizer: 'lowercase' }),
  priceCents: long(),
  currency: keyword(),
  city: keyword({ normalizer: 'lowercase' }),
  country: keyword({ normalizer: 'lowercase' }),
  postalCode: keyword(),
  status: keyword(),
  publishedAt: date(),
  updatedAt: date(),
  version: integer(),
};

export function searchDocumentFromDetail(detail: ListingDetail): ListingSearchDocument;
export function searchDocumentFromDetail(detail: ListingDetail | null): ListingSearchDocument | null;
export function searchDocumentFromDetail(detail: ListingDetail | null): ListingSearchDocument | null {
  if (!detail) return null;
  const { location } = detail;
  return {
    id: detail.id,
    sellerId: detail.sellerId,
    title: detail.title,
    description: detail.description,
    category: detail.category,
    priceCents: detail.priceCents,
    currency: detail.currency,
    city: location.city,
    country: location.country,
    ...(location.postalCode !== undefined ? { postalCode: location.postalCode } : {}),
    status: detail.status,
    publishedAt: detail.publishedAt,
    updatedAt: detail.updatedAt,
    version: detail.version,
  };
}

/** The detail fields the fold reads back from a search document (sale and withdraw details are not kept). */
function detailFromSearch(doc: ListingSearchDocument): ListingDetail {
  const { city, country, postalCode, ...rest } = doc;
  return { ...rest, location: { city, country, ...(postalCode !== undefined ? { postalCode } : {}) } };
}

/** The search fold: the detail fold over the flat document. */
export function applyListingSearch(
  current: ListingSearchDocument | null,
  event: ListingEventEnvelope,
): ListingSearchDocument | null {
  const before = current ? detailFromSearch(current) : null;
  const after = applyListingDetail(before, event);
  // Unchanged (already applied, or an event that does not touch the listing): the same document.
  if (after === before) return current;
  return searchDocumentFromDetail(after);
}

export function createListingSearchProjection(
  options: ListingProjectionOptions = {},
): ProjectionDefinition<ListingSearchDocument> {
  return defineProjection({
    context: listingsContext,
    name: LISTING_SEARCH_PROJECTION,
    version: options.version ?? 1,
    failurePolicy: options.failurePolicy ?? 'stop',
    store: 'elasticsearch',
    events: LISTING_EVENT_TYPES,
    document: ListingSearchDocument,
    apply: applyListingSearch,
    search: { mappings: LISTING_SEARCH_MAPPINGS },
  });
}

export const listingSearchProjection = createListingSearchProjection();
