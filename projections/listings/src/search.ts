/**
 * The listing search view (Elasticsearch): one flat document per listing, full text over title and description,
 * filters and facets over the keyword fields. The fold is the detail fold (applyListingDetail) seen through a
 * flat document, so search and detail can never disagree on what an event does.
 */

import { LISTINGS_CONTEXT_NAME } from '@tidemark/listings';
import type { ProjectionDefinition } from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import { LISTING_EVENT_TYPES } from './events';
import type { ListingDetail, ListingProjectionOptions, ListingViewStatus } from './projections';
import { applyListingDetail } from './projections';

export const LISTING_SEARCH_PROJECTION = 'listing-search';

/** A listing as the search index holds it (flat: every filter is a top-level keyword field). */
export type ListingSearchDocument = {
  id: string;
  sellerId: string;
  title: string;
  description: string;
  category: string;
  priceCents: number;
  currency: string;
  city: string;
  country: string;
  postalCode?: string;
  status: ListingViewStatus;
  publishedAt: string;
  updatedAt: string;
  /** The aggregate version of the last event applied. */
  version: number;
};

type SearchFieldType = 'text' | 'keyword' | 'long' | 'integer' | 'date';

/**
 * The projection plus its index mappings (structurally what @tidemark/projection-elasticsearch's
 * ElasticsearchProjectionDefinition reads; this package does not depend on the sink).
 */
export type ListingSearchProjection = ProjectionDefinition<ListingSearchDocument> & {
  readonly search: {
    mappings: Record<string, { type: SearchFieldType; fields?: Record<string, { type: SearchFieldType }> }>;
  };
};

export const LISTING_SEARCH_MAPPINGS: ListingSearchProjection['search']['mappings'] = {
  id: { type: 'keyword' },
  sellerId: { type: 'keyword' },
  // `title.raw`: exact title, for sorting or exact matches.
  title: { type: 'text', fields: { raw: { type: 'keyword' } } },
  description: { type: 'text' },
  category: { type: 'keyword' },
  priceCents: { type: 'long' },
  currency: { type: 'keyword' },
  city: { type: 'keyword' },
  country: { type: 'keyword' },
  postalCode: { type: 'keyword' },
  status: { type: 'keyword' },
  publishedAt: { type: 'date' },
  updatedAt: { type: 'date' },
  version: { type: 'integer' },
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
  event: EventEnvelope,
): ListingSearchDocument | null {
  const before = current ? detailFromSearch(current) : null;
  const after = applyListingDetail(before, event);
  // Unchanged (already applied, or an event that does not touch the listing): the same document.
  if (after === before) return current;
  return searchDocumentFromDetail(after);
}

export function createListingSearchProjection(
  options: ListingProjectionOptions = {},
): ListingSearchProjection {
  return {
    context: LISTINGS_CONTEXT_NAME,
    name: LISTING_SEARCH_PROJECTION,
    version: options.version ?? 1,
    failurePolicy: options.failurePolicy ?? 'stop',
    store: 'elasticsearch',
    keyScope: 'aggregate',
    eventTypes: LISTING_EVENT_TYPES,
    keys: (event) => [event.aggregate.id],
    apply: (current, event) => applyListingSearch(current, event),
    search: { mappings: LISTING_SEARCH_MAPPINGS },
  };
}

export const listingSearchProjection = createListingSearchProjection();
