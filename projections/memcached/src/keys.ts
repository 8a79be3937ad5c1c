import { createHash } from 'node:crypto';

/**
 * Memcached key layout of one projection version:
 *   tm:<ctx>:<name>:v<N>:gen                      the version's current generation (see MemcachedSink.drop)
 *   tm:<ctx>:<name>:v<N>:g<gen>:p<P>:<key>        a document
 *   tm:<ctx>:<name>:v<N>:g<gen>:p<P>:__checkpoint the partition's checkpoint
 * Memcached keys are at most 250 bytes without spaces or control characters. A document key that would break
 * that (too long, non-printable or non-ASCII bytes, spaces) is replaced by `#<sha256 base64url>`; so are keys
 * that start with '#' or equal `__checkpoint`, so a raw key never lands on a hashed or reserved one. The stored
 * value keeps the original key, which detects the (practically impossible) hash collision.
 */

export const MEMCACHED_MAX_KEY_BYTES = 250;
export const CHECKPOINT_SEGMENT = '__checkpoint';
/** sha256 in base64url: 43 characters, plus the '#' marker. */
const HASHED_SEGMENT_LENGTH = 44;
const NAME = /^[A-Za-z0-9._-]+$/;
/** Printable ASCII without space: safe in the text protocol too, one byte per character. */
const RAW_SEGMENT = /^[\x21-\x7e]+$/;

export interface MemcachedKeyspace {
  readonly generation: string;
  documentKey(partition: number, key: string): string;
  checkpointKey(partition: number): string;
}

interface VersionId {
  context: string;
  name: string;
  version: number;
}

function versionPrefix(projection: VersionId): string {
  const { context, name, version } = projection;
  if (!NAME.test(context)) {
    throw new Error(`memcached sink: context ${JSON.stringify(context)} is not [A-Za-z0-9._-]+`);
  }
  if (!NAME.test(name)) {
    throw new Error(`memcached sink: projection name ${JSON.stringify(name)} is not [A-Za-z0-9._-]+`);
  }
  if (!Number.isSafeInteger(version) || version < 1)
    throw new Error(`memcached sink: bad version ${version}`);
  return `tm:${context}:${name}:v${version}`;
}

/** `tm:<ctx>:<name>:v<N>:gen`: holds the generation that every other key of the version carries. */
export function memcachedGenerationKey(projection: VersionId): string {
  return `${versionPrefix(projection)}:gen`;
}

/** The key segment of a document key: the key itself when it fits, else '#' + its sha256. */
export function encodeKeySegment(key: string, room: number): string {
  if (key.length <= room && RAW_SEGMENT.test(key) && !key.startsWith('#') && key !== CHECKPOINT_SEGMENT) {
    return key;
  }
  return `#${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}

export function memcachedKeyspace(projection: VersionId, generation: string): MemcachedKeyspace {
  if (!/^[A-Za-z0-9_-]+$/.test(generation)) throw new Error(`memcached sink: bad generation ${generation}`);
  const base = `${versionPrefix(projection)}:g${generation}`;
  const partitionPrefix = (partition: number): string => {
    if (!Number.isSafeInteger(partition) || partition < 0) {
      throw new Error(`memcached sink: bad partition ${partition}`);
    }
    return `${base}:p${partition}:`;
  };
  // The longest partition prefix we accept must still leave room for a hashed key.
  if (partitionPrefix(2 ** 31).length + HASHED_SEGMENT_LENGTH > MEMCACHED_MAX_KEY_BYTES) {
    throw new Error(`memcached sink: context and projection name are too long for memcached keys (${base})`);
  }
  return {
    generation,
    documentKey: (partition, key) => {
      const prefix = partitionPrefix(partition);
      return prefix + encodeKeySegment(key, MEMCACHED_MAX_KEY_BYTES - prefix.length);
    },
    checkpointKey: (partition) => partitionPrefix(partition) + CHECKPOINT_SEGMENT,
  };
}
