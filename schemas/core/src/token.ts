/**
 * Consistency tokens (DESIGN.md, Positions and tokens): an opaque, url-safe string holding a format version,
 * the identity of the events topic and a sparse vector {partition: offset}. Tokens merge by per-partition max;
 * a watermark covers a token when it is >= the token on every partition the token names.
 *
 * Wire format (then base64url without padding):
 *   byte 0          format version (TOKEN_FORMAT_VERSION)
 *   bytes 1..8      topic identity (16 lowercase hex chars on the outside)
 *   varint          number of partitions
 *   n x (varint, varint)   partition delta, offset
 * The first delta is the partition itself, every later one the distance from the previous partition, so
 * partitions are strictly increasing by construction and a zero delta after the first is a duplicate. Varints are
 * unsigned LEB128 in their shortest form. Decoding is strict: every string it accepts is exactly what
 * encodeToken gives back for the decoded token (one token, one spelling), so tokens can be compared as strings
 * and cached on.
 *
 * Errors are TidemarkError with status 400 (not retryable): TOKEN_MALFORMED, TOKEN_UNSUPPORTED_VERSION,
 * TOKEN_FOREIGN (another topic identity than expected).
 */
import { TidemarkError } from './errors';

export interface ConsistencyToken {
  /** Identity of the events topic (16 lowercase hex chars). */
  topicIdentity: string;
  /** partition -> offset (the next offset not yet required). */
  positions: ReadonlyMap<number, number>;
}

export const TOKEN_FORMAT_VERSION = 1;
/** Longest token text accepted (and produced): tokens travel in HTTP headers. */
export const MAX_TOKEN_LENGTH = 4096;
/** Kafka partitions are int32. */
export const MAX_TOKEN_PARTITION = 2 ** 31 - 1;

const TOPIC_IDENTITY = /^[0-9a-f]{16}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const IDENTITY_BYTES = 8;
const HEADER_BYTES = 1 + IDENTITY_BYTES;
/** A varint of a value <= 2^53 - 1 takes at most 8 bytes (8 x 7 = 56 bits). */
const MAX_VARINT_BYTES = 8;

const malformed = (message: string, details?: Record<string, unknown>) =>
  new TidemarkError('TOKEN_MALFORMED', `consistency token is malformed: ${message}`, 400, false, details);

export function isTopicIdentity(text: string): boolean {
  return TOPIC_IDENTITY.test(text);
}

/**
 * Folds a Kafka topic id (a UUID, with or without dashes) into a 16-hex-char topic identity by XOR of its two
 * halves, so that every bit of the id counts: a recreated topic gets a new id and thus a new identity.
 */
export function topicIdentityFromTopicId(topicId: string): string {
  const hex = topicId.replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new TypeError(`not a topic id (uuid): '${topicId}'`);
  let folded = '';
  for (let i = 0; i < 16; i++) {
    folded += (Number.parseInt(hex[i] as string, 16) ^ Number.parseInt(hex[i + 16] as string, 16)).toString(
      16,
    );
  }
  return folded;
}

/** A token that requires nothing: every watermark covers it. */
export function EMPTY_TOKEN(topicIdentity: string): ConsistencyToken {
  return tokenFromPositions(topicIdentity, []);
}

/**
 * Builds a token from partition/offset pairs (a Map's entries, an array of pairs or a plain record).
 * Throws TOKEN_MALFORMED for a bad identity, a bad partition or offset, or a partition named twice.
 */
export function tokenFromPositions(
  topicIdentity: string,
  positions: Iterable<readonly [number, number]> | Readonly<Record<number, number>>,
): ConsistencyToken {
  assertIdentity(topicIdentity);
  const pairs: [number, number][] = isIterable(positions)
    ? [...positions].map(([partition, offset]) => [partition, offset])
    : Object.entries(positions).map(([partition, offset]) => [Number(partition), offset]);
  const map = new Map<number, number>();
  for (const [partition, offset] of pairs) {
    assertPartition(partition);
    assertOffset(offset);
    if (map.has(partition)) throw malformed(`partition ${partition} given twice`);
    map.set(partition, offset);
  }
  return { topicIdentity, positions: sortedMap(map) };
}

export function encodeToken(token: ConsistencyToken): string {
  assertIdentity(token.topicIdentity);
  const partitions = [...token.positions.keys()].sort((a, b) => a - b);
  const bytes: number[] = [TOKEN_FORMAT_VERSION];
  for (let i = 0; i < IDENTITY_BYTES; i++) {
    bytes.push(Number.parseInt(token.topicIdentity.slice(i * 2, i * 2 + 2), 16));
  }
  writeVarint(bytes, partitions.length);
  let previous = 0;
  for (const partition of partitions) {
    const offset = token.positions.get(partition) as number;
    assertPartition(partition);
    assertOffset(offset);
    writeVarint(bytes, partition - previous);
    writeVarint(bytes, offset);
    previous = partition;
  }
  const text = Buffer.from(bytes).toString('base64url');
  // Refused here rather than produced and then refused by every reader.
  if (text.length > MAX_TOKEN_LENGTH) {
    throw new TidemarkError(
      'TOKEN_TOO_LARGE',
      `consistency token of ${partitions.length} partitions exceeds ${MAX_TOKEN_LENGTH} characters`,
      500,
      false,
    );
  }
  return text;
}

/**
 * Parses a token; with expectedIdentity, a token of another topic (e.g. one that was deleted and recreated)
 * is refused with TOKEN_FOREIGN.
 */
export function decodeToken(text: string, expectedIdentity?: string): ConsistencyToken {
  if (typeof text !== 'string') throw malformed('not a string');
  if (text.length === 0) throw malformed('empty');
  if (text.length > MAX_TOKEN_LENGTH) throw malformed(`longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!BASE64URL.test(text)) throw malformed('not base64url (A-Z a-z 0-9 - _ without padding)');
  const bytes = Buffer.from(text, 'base64url');
  // Node's decoder ignores a dangling character and non-zero padding bits; re-encoding catches both, so that a
  // token has one spelling only.
  if (bytes.toString('base64url') !== text) throw malformed('not canonical base64url');

  const version = bytes[0] as number;
  if (version !== TOKEN_FORMAT_VERSION) {
    throw new TidemarkError(
      'TOKEN_UNSUPPORTED_VERSION',
      `consistency token format version ${version} is not supported (this server reads version ${TOKEN_FORMAT_VERSION})`,
      400,
      false,
      { version, supported: [TOKEN_FORMAT_VERSION] },
    );
  }
  if (bytes.length < HEADER_BYTES + 1) throw malformed('truncated header');
  const topicIdentity = bytes.subarray(1, HEADER_BYTES).toString('hex');

  const reader = { bytes, at: HEADER_BYTES };
  const count = readVarint(reader, 'partition count');
  // Each pair takes at least two bytes: a larger count is a lie, refused before any allocation.
  if (count * 2 > bytes.length - reader.at) throw malformed('truncated (fewer partitions than announced)');
  const positions = new Map<number, number>();
  let partition = 0;
  for (let i = 0; i < count; i++) {
    const delta = readVarint(reader, 'partition');
    if (i > 0 && delta === 0) throw malformed(`partition ${partition} appears twice`);
    partition += delta;
    if (partition > MAX_TOKEN_PARTITION) throw malformed(`partition ${partition} out of range`);
    const offset = readVarint(reader, 'offset');
    positions.set(partition, offset);
  }
  if (reader.at !== bytes.length) throw malformed(`${bytes.length - reader.at} trailing byte(s)`);

  if (expectedIdentity !== undefined && topicIdentity !== expectedIdentity) {
    throw new TidemarkError(
      'TOKEN_FOREIGN',
      'consistency token belongs to another events topic (was the topic recreated?)',
      400,
      false,
      { tokenTopic: topicIdentity, expectedTopic: expectedIdentity },
    );
  }
  return { topicIdentity, positions };
}

/** Per-partition max. Tokens of different topics cannot be merged (TOKEN_FOREIGN). */
export function mergeTokens(...tokens: ConsistencyToken[]): ConsistencyToken {
  const [first, ...rest] = tokens;
  if (first === undefined) throw new TypeError('mergeTokens needs at least one token');
  const merged = new Map(first.positions);
  for (const token of rest) {
    if (token.topicIdentity !== first.topicIdentity) {
      throw new TidemarkError(
        'TOKEN_FOREIGN',
        'cannot merge consistency tokens of different events topics',
        400,
        false,
        { topics: [first.topicIdentity, token.topicIdentity] },
      );
    }
    for (const [partition, offset] of token.positions) {
      if (offset > (merged.get(partition) ?? -1)) merged.set(partition, offset);
    }
  }
  return { topicIdentity: first.topicIdentity, positions: sortedMap(merged) };
}

/** True when the watermark is >= the token on every partition the token names (missing counts as 0). */
export function covers(watermark: ReadonlyMap<number, number>, token: ConsistencyToken): boolean {
  for (const [partition, offset] of token.positions) {
    if ((watermark.get(partition) ?? 0) < offset) return false;
  }
  return true;
}

function sortedMap(map: ReadonlyMap<number, number>): Map<number, number> {
  return new Map([...map].sort(([a], [b]) => a - b));
}

function isIterable(value: object): value is Iterable<readonly [number, number]> {
  return Symbol.iterator in value;
}

function assertIdentity(topicIdentity: string): void {
  if (typeof topicIdentity !== 'string' || !TOPIC_IDENTITY.test(topicIdentity)) {
    throw malformed(`topic identity must be 16 lowercase hex characters (got '${String(topicIdentity)}')`);
  }
}

function assertPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_TOKEN_PARTITION) {
    throw malformed(`bad partition ${String(partition)}`);
  }
}

function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw malformed(`bad offset ${String(offset)}`);
}

function writeVarint(out: number[], value: number): void {
  // Division rather than bit operators: those truncate to 32 bits, offsets go up to 2^53 - 1.
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function readVarint(reader: { bytes: Uint8Array; at: number }, what: string): number {
  let value = 0;
  let scale = 1;
  for (let length = 1; ; length++) {
    if (length > MAX_VARINT_BYTES) throw malformed(`${what} exceeds 2^53 - 1`);
    const byte = reader.bytes[reader.at];
    if (byte === undefined) throw malformed(`truncated (${what})`);
    reader.at++;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      // A final zero byte after others adds nothing: a longer spelling of a shorter varint.
      if (byte === 0 && length > 1) throw malformed(`non-canonical varint (${what})`);
      if (value > Number.MAX_SAFE_INTEGER) throw malformed(`${what} exceeds 2^53 - 1`);
      return value;
    }
    scale *= 0x80;
  }
}
