/**
 * The query parameters of GET /v1/listings/search, validated into ListingSearchParams. Every refusal is a 400
 * INVALID_QUERY_PARAMETER naming the parameter (details.parameter).
 */
import { INVALID_QUERY_PARAMETER, QueryError } from '../errors';
import type { ListingSearchParams, ListingSearchSort, ListingSearchStatus } from '../search/listing-search';
import { LISTING_SEARCH_SORTS } from '../search/listing-search';

export const MAX_SEARCH_TEXT_LENGTH = 200;
export const MAX_FILTER_LENGTH = 200;
export const DEFAULT_SEARCH_SIZE = 20;
export const MAX_SEARCH_SIZE = 100;
/** from + size: deeper pages are refused (Elasticsearch's default max_result_window). */
export const MAX_SEARCH_WINDOW = 10_000;
export const SEARCH_STATUSES: readonly ListingSearchStatus[] = ['active', 'withdrawn', 'sold', 'any'];

const bad = (parameter: string, message: string) =>
  new QueryError(INVALID_QUERY_PARAMETER, message, 400, false, { parameter });

/** A single string value, or undefined; a repeated parameter (an array) or an object is refused. */
function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw bad(name, `${name} must be given once`);
  return value;
}

function text(query: Record<string, unknown>, name: string, max: number): string | undefined {
  const value = single(query, name)?.trim();
  if (value === undefined || value === '') return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw bad(name, `${name} must be at most ${max} characters without control characters`);
  }
  return value;
}

function whole(query: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw bad(name, `${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

function oneOf<T extends string>(
  query: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = single(query, name);
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw bad(name, `${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function parseSearchParams(query: Record<string, unknown>): ListingSearchParams {
  const q = text(query, 'q', MAX_SEARCH_TEXT_LENGTH);
  const category = text(query, 'category', MAX_FILTER_LENGTH);
  const city = text(query, 'city', MAX_FILTER_LENGTH);
  const country = text(query, 'country', MAX_FILTER_LENGTH);
  const minPrice = whole(query, 'minPrice', 0, Number.MAX_SAFE_INTEGER);
  const maxPrice = whole(query, 'maxPrice', 0, Number.MAX_SAFE_INTEGER);
  if (minPrice !== undefined && maxPrice !== undefined && minPrice > maxPrice) {
    throw bad('minPrice', 'minPrice must not be above maxPrice');
  }
  const status = oneOf(query, 'status', SEARCH_STATUSES, 'active');
  const sort = oneOf<ListingSearchSort>(query, 'sort', LISTING_SEARCH_SORTS, 'relevance');
  const from = whole(query, 'from', 0, MAX_SEARCH_WINDOW) ?? 0;
  const size = whole(query, 'size', 1, MAX_SEARCH_SIZE) ?? DEFAULT_SEARCH_SIZE;
  if (from + size > MAX_SEARCH_WINDOW) throw bad('from', `from + size must be at most ${MAX_SEARCH_WINDOW}`);
  return {
    ...(q !== undefined ? { q } : {}),
    ...(category !== undefined ? { category } : {}),
    ...(minPrice !== undefined ? { minPrice } : {}),
    ...(maxPrice !== undefined ? { maxPrice } : {}),
    ...(city !== undefined ? { city } : {}),
    ...(country !== undefined ? { country } : {}),
    status,
    from,
    size,
    sort,
  };
}
