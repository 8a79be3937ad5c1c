import { UsageError } from './usage-error';

/** Parses an integer option; undefined stays undefined. */
export function intOption(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new UsageError(`--${name} must be an integer >= ${min} (got '${value}')`);
  return parsed;
}
