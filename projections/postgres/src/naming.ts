/**
 * Target names of a projection version in Postgres: `proj_<name>_v<N>` (documents) and
 * `proj_<name>_v<N>_checkpoints`, dashes turned into underscores. Names are validated, not escaped away, so
 * two projections can never map onto one table.
 */
import { createHash } from 'node:crypto';

/** Postgres truncates identifiers longer than this (NAMEDATALEN - 1), silently: refuse them instead. */
export const MAX_IDENTIFIER_BYTES = 63;

const PROJECTION_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export interface PostgresTargetNames {
  /** Unquoted identifiers. */
  table: string;
  checkpoints: string;
}

/** Throws unless `name` is lowercase letters, digits and single dashes (starting with a letter). */
export function validateProjectionName(name: string): void {
  if (!PROJECTION_NAME.test(name)) {
    throw new Error(
      `invalid projection name ${JSON.stringify(name)}: lowercase letters, digits and single dashes, starting with a letter`,
    );
  }
}

export function postgresTargetNames(projection: { name: string; version: number }): PostgresTargetNames {
  validateProjectionName(projection.name);
  if (!Number.isSafeInteger(projection.version) || projection.version < 1) {
    throw new Error(`invalid projection version ${projection.version}: an integer >= 1`);
  }
  const table = `proj_${projection.name.replaceAll('-', '_')}_v${projection.version}`;
  const checkpoints = `${table}_checkpoints`;
  if (Buffer.byteLength(checkpoints) > MAX_IDENTIFIER_BYTES) {
    throw new Error(
      `projection name ${JSON.stringify(projection.name)} is too long for Postgres: ${checkpoints} exceeds ${MAX_IDENTIFIER_BYTES} bytes`,
    );
  }
  return { table, checkpoints };
}

/** A double-quoted identifier (the names are validated; quoting still keeps any schema name safe). */
export function quoteIdent(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** A single-quoted string literal, for the field names inside index expressions (DDL takes no parameters). */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error('a NUL character cannot be part of a Postgres literal');
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The name of the expression index on `doc->>'<field>'`: readable when the field is a plain word, with a hash
 * suffix so that any field (or a long one) gets a distinct name within 63 bytes.
 */
export function indexName(table: string, field: string): string {
  const hash = createHash('sha256').update(field).digest('hex').slice(0, 8);
  const plain = field.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  const room = MAX_IDENTIFIER_BYTES - table.length - hash.length - 3;
  return `${table}_${plain.slice(0, Math.max(0, room))}_${hash}`;
}
