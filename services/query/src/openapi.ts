import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_SEARCH_SIZE,
  MAX_FILTER_LENGTH,
  MAX_SEARCH_SIZE,
  MAX_SEARCH_TEXT_LENGTH,
  MAX_SEARCH_WINDOW,
  SEARCH_STATUSES,
} from './http/search-params';
import type { ResolvedQueryOptions } from './options';
import { MAX_QUERY_WAIT_TIMEOUT_MS } from './options';
import { MAX_ID_LENGTH } from './read.service';
import { LISTING_SEARCH_SORTS } from './search/listing-search';
import { QUERY_OPTIONS_RESOLVED } from './tokens';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string, headers?: Json) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: ref('Error') } },
});
const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

const answerHeaders = {
  'Consistency-Token': {
    description: 'The watermark of the view read, merged with the request token: merge it into later tokens',
    schema: { type: 'string' },
  },
  'Consistency-Stale': {
    description: 'Present ("true") when stale=ok was asked and the view did not cover the request token',
    schema: { type: 'string', enum: ['true'] },
  },
  'Consistency-Version': {
    description:
      'The version of the view that answered: the active one, or during a gradual cutover (split) the candidate',
    schema: { type: 'integer' },
  },
  'X-Tidemark-Source': {
    description:
      'The store that answered: postgres, redis, memcached, elasticsearch or postgres-fallback (a card derived from the detail view)',
    schema: { type: 'string' },
  },
  'X-Tidemark-View': { description: 'The view version read, <projection>.v<N>', schema: { type: 'string' } },
};

const envelope = (data: Json) => ({
  type: 'object',
  properties: {
    data,
    token: { type: 'string', description: 'Same as the Consistency-Token response header' },
    stale: { const: true, description: 'Only present on a stale answer (stale=ok)' },
  },
  required: ['data', 'token'],
});

const location = {
  type: 'object',
  properties: { country: { type: 'string' }, city: { type: 'string' }, postalCode: { type: 'string' } },
  required: ['country', 'city'],
};
const status = { type: 'string', enum: ['active', 'withdrawn', 'sold'] };

const schemas: Json = {
  ListingDetail: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      sellerId: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      category: { type: 'string' },
      priceCents: { type: 'integer' },
      currency: { type: 'string' },
      location,
      status,
      version: { type: 'integer', description: 'Aggregate version of the last event applied' },
      publishedAt: { type: 'string' },
      updatedAt: { type: 'string' },
      soldPriceCents: { type: 'integer' },
      buyerId: { type: 'string' },
      withdrawReason: { type: 'string' },
    },
    required: [
      'id',
      'sellerId',
      'title',
      'description',
      'category',
      'priceCents',
      'currency',
      'location',
      'status',
      'version',
      'publishedAt',
      'updatedAt',
    ],
  },
  ListingCard: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      title: { type: 'string' },
      priceCents: { type: 'integer' },
      currency: { type: 'string' },
      city: { type: 'string' },
      country: { type: 'string' },
      status,
      category: { type: 'string' },
      version: { type: 'integer' },
    },
    required: ['id', 'title', 'priceCents', 'currency', 'city', 'country', 'status', 'category', 'version'],
  },
  SellerStats: {
    type: 'object',
    properties: {
      sellerId: { type: 'string' },
      activeListings: { type: 'integer' },
      askingValueCents: {
        type: 'object',
        additionalProperties: { type: 'integer' },
        description: 'Total asking price of the active listings per currency',
      },
      soldListings: { type: 'integer' },
      withdrawnListings: { type: 'integer' },
    },
    required: ['sellerId', 'activeListings', 'askingValueCents', 'soldListings', 'withdrawnListings'],
  },
  ListingSearchDocument: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      sellerId: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      category: { type: 'string' },
      priceCents: { type: 'integer' },
      currency: { type: 'string' },
      city: { type: 'string' },
      country: { type: 'string' },
      postalCode: { type: 'string' },
      status,
      publishedAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      version: { type: 'integer' },
    },
    required: [
      'id',
      'sellerId',
      'title',
      'description',
      'category',
      'priceCents',
      'currency',
      'city',
      'country',
      'status',
      'publishedAt',
      'updatedAt',
      'version',
    ],
  },
  ListingSearchResult: {
    type: 'object',
    properties: {
      total: { type: 'integer', description: 'Every match, not only this page' },
      hits: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            score: { type: ['number', 'null'], description: 'null unless sorted by relevance' },
            listing: ref('ListingSearchDocument'),
          },
          required: ['id', 'score', 'listing'],
        },
      },
      facets: {
        type: 'object',
        properties: {
          category: {
            type: 'array',
            description: 'Matches per category (over all matches, the category filter included)',
            items: {
              type: 'object',
              properties: { key: { type: 'string' }, count: { type: 'integer' } },
              required: ['key', 'count'],
            },
          },
        },
        required: ['category'],
      },
    },
    required: ['total', 'hits', 'facets'],
  },
  Error: {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          retryable: { type: 'boolean' },
          details: { type: 'object' },
        },
        required: ['code', 'message', 'retryable'],
      },
    },
    required: ['error'],
  },
};

/** The OpenAPI 3.1 document of the query API. */
export function buildOpenApiDocument(options: { waitTimeoutMs: number; readScope: string }): Json {
  const parameters = [
    {
      name: 'id',
      in: 'path',
      required: true,
      schema: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
    },
    {
      name: 'Consistency-Token',
      in: 'header',
      required: false,
      description: 'The merged tokens of earlier answers: the read waits until the view covers it',
      schema: { type: 'string' },
    },
    {
      name: 'stale',
      in: 'query',
      required: false,
      description: 'ok: do not wait; an answer from a view that does not cover the token is marked stale',
      schema: { type: 'string', enum: ['ok'] },
    },
    {
      name: 'wait',
      in: 'query',
      required: false,
      description: `Wait at most this many ms (only lowers the server bound of ${options.waitTimeoutMs} ms)`,
      schema: { type: 'integer', minimum: 0, maximum: MAX_QUERY_WAIT_TIMEOUT_MS },
    },
  ];
  const query = (name: string, description: string, schema: Json) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  });
  const searchParameters = [
    ...parameters.filter((p) => p.in !== 'path'),
    query('q', 'Full text over title (boosted) and description', {
      type: 'string',
      maxLength: MAX_SEARCH_TEXT_LENGTH,
    }),
    query('category', 'Exact category', { type: 'string', maxLength: MAX_FILTER_LENGTH }),
    query('city', 'Exact city', { type: 'string', maxLength: MAX_FILTER_LENGTH }),
    query('country', 'Exact country code', { type: 'string', maxLength: MAX_FILTER_LENGTH }),
    query('minPrice', 'Lowest priceCents (inclusive)', { type: 'integer', minimum: 0 }),
    query('maxPrice', 'Highest priceCents (inclusive)', { type: 'integer', minimum: 0 }),
    query('status', 'Listing status (any: every status)', {
      type: 'string',
      enum: SEARCH_STATUSES,
      default: 'active',
    }),
    query('sort', 'Order of the hits (ties by id)', {
      type: 'string',
      enum: LISTING_SEARCH_SORTS,
      default: 'relevance',
    }),
    query('from', `Offset of the page (from + size <= ${MAX_SEARCH_WINDOW})`, {
      type: 'integer',
      minimum: 0,
      default: 0,
    }),
    query('size', 'Hits per page', {
      type: 'integer',
      minimum: 1,
      maximum: MAX_SEARCH_SIZE,
      default: DEFAULT_SEARCH_SIZE,
    }),
  ];
  const read = (operationId: string, summary: string, schema: string, notFound: string) => ({
    get: {
      operationId,
      summary,
      description: `Needs the scope ${options.readScope}.`,
      parameters,
      responses: {
        '200': {
          description: 'The document, read from a view that covers the token (or marked stale)',
          headers: answerHeaders,
          content: { 'application/json': { schema: envelope(ref(schema)) } },
        },
        '400': error(
          'INVALID_ID, INVALID_QUERY_PARAMETER, TOKEN_MALFORMED, TOKEN_UNSUPPORTED_VERSION, TOKEN_FOREIGN, TOKEN_AHEAD_OF_LOG',
        ),
        '401': error('No or unknown API key'),
        '403': error('The API key lacks the scope'),
        '404': error(`${notFound}: answered only by a view that covers the token`, answerHeaders),
        '503': error(
          'CONSISTENCY_TIMEOUT (the view did not cover the token in time), VIEW_UNAVAILABLE, TOPIC_IDENTITY_UNAVAILABLE',
          retryAfter,
        ),
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tidemark query API',
      version: '1.0.0',
      description:
        'Reads of the listings views with read-your-writes: send the merged Consistency-Token of earlier answers. Every answer that is not a 200 is {error: {code, message, retryable, details?}}.',
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      '/v1/listings/search': {
        get: {
          operationId: 'searchListings',
          summary:
            'Full-text search of listings with filters and category facets (Elasticsearch search view)',
          description: `Needs the scope ${options.readScope}.`,
          parameters: searchParameters,
          responses: {
            '200': {
              description: 'The page of hits, from a search view that covers the token (or marked stale)',
              headers: answerHeaders,
              content: { 'application/json': { schema: envelope(ref('ListingSearchResult')) } },
            },
            '400': error(
              'INVALID_QUERY_PARAMETER (details.parameter names it), TOKEN_MALFORMED, TOKEN_UNSUPPORTED_VERSION, TOKEN_FOREIGN, TOKEN_AHEAD_OF_LOG',
            ),
            '401': error('No or unknown API key'),
            '403': error('The API key lacks the scope'),
            '503': error(
              'CONSISTENCY_TIMEOUT, VIEW_UNAVAILABLE (also when no search view is configured), TOPIC_IDENTITY_UNAVAILABLE',
              retryAfter,
            ),
          },
        },
      },
      '/v1/listings/{id}': read(
        'getListing',
        'A listing (Postgres detail view)',
        'ListingDetail',
        'LISTING_NOT_FOUND',
      ),
      '/v1/listings/{id}/card': read(
        'getListingCard',
        'A listing card (Memcached; derived from the detail view when memcached does not know it)',
        'ListingCard',
        'LISTING_NOT_FOUND',
      ),
      '/v1/sellers/{id}/stats': read(
        'getSellerStats',
        'A seller’s counters (Redis; the partitions’ sub-documents merged)',
        'SellerStats',
        'SELLER_NOT_FOUND',
      ),
      '/healthz': {
        get: { operationId: 'health', security: [], responses: { '200': { description: 'Up' } } },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          security: [],
          responses: { '200': { description: 'Prometheus metrics', content: { 'text/plain': {} } } },
        },
      },
      '/openapi.json': {
        get: { operationId: 'openapi', security: [], responses: { '200': { description: 'This document' } } },
      },
    },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
  };
}

/** The document, built once at start. */
@Injectable()
export class OpenApiDocument {
  readonly document: Json;

  constructor(@Inject(QUERY_OPTIONS_RESOLVED) options: ResolvedQueryOptions) {
    this.document = buildOpenApiDocument(options);
  }
}
