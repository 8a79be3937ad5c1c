/**
 * The query parameters of a search query, validated from its definition (defineQueries). Every refusal is a 400
 * INVALID_QUERY_PARAMETER naming the parameter (details.parameter), a parameter the query does not define
 * included: a misspelt filter must not silently widen the answer.
 */
import { TidemarkError } from '@tidemark/schemas';
import type { SearchQuery } from '@tidemark/sdk';
import { INVALID_QUERY_PARAMETER } from '../errors';
import { READ_PARAMETERS } from '../http/read-request';

/** Longest accepted value of a term filter. */
export const MAX_FILTER_LENGTH = 200;

/** A search as the view runs it: the parameters after validation and defaults. */
export interface SearchParams {
  text?: string;
  /** Filter parameter -> its value (a number for range filters); choice filters at their default included. */
  filters: Record<string, string | number>;
  sort: string;
  from: number;
  size: number;
}

const bad = (parameter: string, message: string) =>
  new TidemarkError(INVALID_QUERY_PARAMETER, message, 400, false, { parameter });

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

function oneOf(query: Record<string, unknown>, name: string, allowed: readonly string[]): string | undefined {
  const value = single(query, name);
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value)) throw bad(name, `${name} must be one of ${allowed.join(', ')}`);
  return value;
}

/** The parameters a search query accepts (besides stale and wait, which every read takes). */
export function searchParameterNames(definition: SearchQuery): string[] {
  return [
    ...(definition.text ? [definition.text.param] : []),
    ...Object.keys(definition.filters),
    'sort',
    'from',
    'size',
  ];
}

export function parseSearchParams(definition: SearchQuery, query: Record<string, unknown>): SearchParams {
  const known = searchParameterNames(definition);
  for (const name of Object.keys(query)) {
    if (!known.includes(name) && !READ_PARAMETERS.includes(name)) {
      throw bad(name, `unknown parameter '${name}' (this search takes: ${known.join(', ')})`);
    }
  }
  const searchText = definition.text
    ? text(query, definition.text.param, definition.text.maxLength)
    : undefined;
  const filters: Record<string, string | number> = {};
  const ranges = new Map<string, { lower?: [string, number]; upper?: [string, number] }>();
  for (const [name, filter] of Object.entries(definition.filters)) {
    switch (filter.kind) {
      case 'term': {
        const value = text(query, name, MAX_FILTER_LENGTH);
        if (value !== undefined) filters[name] = value;
        break;
      }
      case 'choice': {
        const value =
          oneOf(query, name, [...filter.values, ...(filter.any ? [filter.any] : [])]) ?? filter.default;
        if (value !== undefined) filters[name] = value;
        break;
      }
      case 'range': {
        const value = whole(query, name, filter.min ?? 0, filter.max ?? Number.MAX_SAFE_INTEGER);
        if (value === undefined) break;
        filters[name] = value;
        const bounds = ranges.get(filter.field) ?? {};
        if (filter.bound === 'gte') bounds.lower = [name, value];
        else bounds.upper = [name, value];
        ranges.set(filter.field, bounds);
        break;
      }
    }
  }
  for (const { lower, upper } of ranges.values()) {
    if (lower && upper && lower[1] > upper[1])
      throw bad(lower[0], `${lower[0]} must not be above ${upper[0]}`);
  }
  const sort = oneOf(query, 'sort', Object.keys(definition.sorts)) ?? definition.defaultSort;
  const from = whole(query, 'from', 0, definition.maxWindow) ?? 0;
  const size = whole(query, 'size', 1, definition.size.max) ?? definition.size.default;
  if (from + size > definition.maxWindow)
    throw bad('from', `from + size must be at most ${definition.maxWindow}`);
  return { ...(searchText !== undefined ? { text: searchText } : {}), filters, sort, from, size };
}
