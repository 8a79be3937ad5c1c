import { SearchRequestError } from '../engine/contracts';

export function parsingError(reason: string): SearchRequestError {
  return new SearchRequestError('parsing_exception', reason);
}

export function illegalArgument(reason: string): SearchRequestError {
  return new SearchRequestError('illegal_argument_exception', reason);
}

/** ES reports failures to build a query on a shard (bad number for a long field, ...) this way. */
export function shardFailure(reason: string): SearchRequestError {
  return new SearchRequestError('search_phase_execution_exception', reason);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'START_ARRAY';
  if (isPlainObject(value)) return 'START_OBJECT';
  if (typeof value === 'string') return 'VALUE_STRING';
  if (typeof value === 'number') return 'VALUE_NUMBER';
  if (typeof value === 'boolean') return 'VALUE_BOOLEAN';
  return 'VALUE_NULL';
}

/** Throws ES's message for an unknown key inside `where` (a query or request section). */
export function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const [key, value] of Object.entries(obj)) {
    if (!allowed.includes(key))
      throw parsingError(
        `[${where}] unknown field [${key}] (${jsonKind(value)}; supported: ${allowed.join(', ')})`,
      );
  }
}
