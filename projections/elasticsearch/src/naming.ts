/**
 * Index names, document ids and the stored shape of an Elasticsearch view (DESIGN.md, Versions and cutover: an
 * index per projection version, behind an alias).
 */
import { createHash } from 'node:crypto';
import type { ProjectionDocument } from '@tidemark/projection-runtime';

export interface ElasticsearchTargetNames {
  /** `tm-<ctx>-<name>-v<N>`: the documents of the version. */
  index: string;
  /** `tm-<ctx>-<name>-v<N>-checkpoints`: one document per partition, `_id` = `_checkpoint:<partition>`. */
  checkpoints: string;
  /**
   * `tm-<ctx>-<name>`: the version-independent alias, claimed by the first version prepared; a cutover moves it
   * (issue 6). The query API itself picks the version from the control table and reads `index` directly.
   */
  alias: string;
}

const NAME_PART = /^[a-z0-9][a-z0-9-]*$/;

/** The targets of a projection version; refuses names Elasticsearch would refuse (or that could collide). */
export function elasticsearchTargetNames(projection: {
  context: string;
  name: string;
  version: number;
}): ElasticsearchTargetNames {
  const context = projection.context.toLowerCase();
  const name = projection.name.toLowerCase();
  if (!NAME_PART.test(context)) throw new Error(`elasticsearch sink: bad context '${projection.context}'`);
  if (!NAME_PART.test(name)) throw new Error(`elasticsearch sink: bad projection name '${projection.name}'`);
  if (!Number.isSafeInteger(projection.version) || projection.version < 1) {
    throw new Error(`elasticsearch sink: bad version ${projection.version}`);
  }
  const alias = `tm-${context}-${name}`;
  const index = `${alias}-v${projection.version}`;
  // Index names are limited to 255 bytes; the longest one we make is the checkpoints index.
  const checkpoints = `${index}-checkpoints`;
  if (Buffer.byteLength(checkpoints) > 255) throw new Error(`elasticsearch sink: name too long (${index})`);
  return { index, checkpoints, alias };
}

/** Elasticsearch refuses `_id`s over 512 bytes. */
export const MAX_ID_BYTES = 512;

/**
 * The `_id` of a key's document in a partition: `<partition>:<key>` (documents are per partition, so keyScope
 * 'all' sub-documents of one key never collide). A key too long for an `_id` is replaced by its sha-256; the
 * real key is kept in the document's `_tm.key`.
 */
export function documentId(partition: number, key: string): string {
  checkPartition(partition);
  const id = `${partition}:${key}`;
  if (Buffer.byteLength(id) <= MAX_ID_BYTES) return id;
  return `${partition}:#sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export function checkpointId(partition: number): string {
  checkPartition(partition);
  return `_checkpoint:${partition}`;
}

function checkPartition(partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new Error(`elasticsearch sink: bad partition ${partition}`);
  }
}

/** The field holding the sink's bookkeeping in every stored document. */
export const META_FIELD = '_tm';

export interface DocumentMeta {
  key: string;
  partition: number;
  /** Offset just past the last event applied; also the document's external `_version`. */
  position: number;
  /** A tombstone: kept (not an ES delete) so it keeps ordering writes forever; searches filter it out. */
  deleted: boolean;
}

/** Mappings of the bookkeeping fields (merged into every view index's mappings). */
export const META_MAPPINGS = {
  properties: {
    key: { type: 'keyword' },
    partition: { type: 'integer' },
    position: { type: 'long' },
    deleted: { type: 'boolean' },
  },
} as const;

/** The `_source` stored for a write: the document's own fields plus `_tm`; a tombstone has only `_tm`. */
export function encodeSource(
  partition: number,
  key: string,
  position: number,
  doc: ProjectionDocument | null,
): Record<string, unknown> {
  if (doc !== null && META_FIELD in doc) {
    throw new Error(`elasticsearch sink: a document may not have a '${META_FIELD}' field (key ${key})`);
  }
  const meta: DocumentMeta = { key, partition, position, deleted: doc === null };
  return { ...(doc ?? {}), [META_FIELD]: meta };
}

/** Splits a stored `_source` into the sink's bookkeeping and the document (null for a tombstone). */
export function decodeSource<D extends ProjectionDocument>(
  source: unknown,
  where: string,
): { meta: DocumentMeta; doc: D | null } {
  if (typeof source === 'object' && source !== null && !Array.isArray(source)) {
    const { [META_FIELD]: meta, ...doc } = source as Record<string, unknown>;
    if (isMeta(meta)) return { meta, doc: meta.deleted ? null : (doc as D) };
  }
  throw new Error(`elasticsearch sink: unreadable stored document ${where}`);
}

function isMeta(value: unknown): value is DocumentMeta {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m.key === 'string' &&
    typeof m.partition === 'number' &&
    typeof m.position === 'number' &&
    typeof m.deleted === 'boolean'
  );
}

/** A query clause keeping live documents only (tombstones are stored documents too). */
export const LIVE_DOCUMENTS = { term: { [`${META_FIELD}.deleted`]: false } } as const;
