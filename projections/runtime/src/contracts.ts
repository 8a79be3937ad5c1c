/**
 * The contracts between the projector runtime, the sinks and the query API (DESIGN.md, Projections and sinks).
 *
 * A projection is pure: which documents an event touches (`keys`) and how a document changes (`apply`). A sink
 * is a store: it loads documents, writes them together with the partition's checkpoint, and answers reads.
 * Positions: a document's `position` is the offset just past the last event applied to it, and a partition's
 * checkpoint is the next offset the projector has not applied (its watermark entry). Both only move forward.
 */
import type { EventEnvelope } from '@tidemark/schemas';

export type StoreKind = 'postgres' | 'redis' | 'memcached' | 'elasticsearch';

/** A JSON document as stored in a view. */
export type ProjectionDocument = { [key: string]: unknown };

export type FailurePolicy = 'stop' | 'dead-letter';

/**
 * Which partitions hold a key's documents. `aggregate`: the key is an aggregate id, so its one document lives in
 * partitionForKey(key, P). `all`: every partition may hold a sub-document of the key (e.g. per-seller counters),
 * and a read merges them with `merge`.
 */
export type KeyScope = 'aggregate' | 'all';

export interface ProjectionDefinition<D extends ProjectionDocument = ProjectionDocument> {
  /** Context whose `<ctx>.events` topic feeds this projection, e.g. 'listings'. */
  readonly context: string;
  /** Projection name, e.g. 'listing-detail' (lowercase, digits and dashes). */
  readonly name: string;
  /** Version >= 1; each version has its own targets and consumer group `<ctx>.proj.<name>.v<N>`. */
  readonly version: number;
  readonly store: StoreKind;
  readonly keyScope: KeyScope;
  /** Event types this projection reads; others are skipped (but still advance the checkpoint). */
  readonly eventTypes: readonly string[];
  readonly failurePolicy: FailurePolicy;
  /** Keys of the documents the event changes; [] when it changes none. */
  keys(event: EventEnvelope): string[];
  /**
   * The next document, or null for "no document" (deleted or never created). Pure; may throw for an event it
   * cannot handle (a poison event), which the failure policy then deals with.
   */
  apply(current: D | null, event: EventEnvelope, key: string): D | null;
  /** Top-level document fields that reads filter on: a store indexes them (Postgres expression indexes). */
  readonly indexes?: readonly string[];
  /** For keyScope 'all': combines the partitions' sub-documents of a key into the document a read returns. */
  merge?(parts: readonly D[]): D;
}

/** A document as a sink holds it. `doc: null` is a tombstone: the key is known to be absent since `position`. */
export interface StoredDocument<D extends ProjectionDocument = ProjectionDocument> {
  key: string;
  partition: number;
  doc: D | null;
  /** Offset just past the last event applied to this document. */
  position: number;
}

/**
 * What a sink knows about a key: the stored document (maybe a tombstone), `absent` (never written), or
 * `unknown` (a cache store lost it, e.g. memcached evicted it: the projector must not fold onto it as if absent,
 * and a read must fall back to a view that knows).
 */
export type Lookup<D extends ProjectionDocument = ProjectionDocument> =
  | StoredDocument<D>
  | 'absent'
  | 'unknown';

export interface DocumentWrite<D extends ProjectionDocument = ProjectionDocument> {
  key: string;
  /** null writes a tombstone. */
  doc: D | null;
  position: number;
}

/**
 * One store's view of one projection version. Every projector instance writes only the partitions it owns, so
 * no two writers share a key (documents are per partition). Implementations: projections/postgres, /redis,
 * /memcached (and /elasticsearch); all pass the shared sink contract suite.
 */
export interface Sink<D extends ProjectionDocument = ProjectionDocument> {
  readonly store: StoreKind;
  /** Creates this version's targets if missing (table, key prefix, index); idempotent. */
  prepare(): Promise<void>;
  /** partition -> checkpoint (next offset not applied). Partitions never written are missing. The authority. */
  checkpoints(): Promise<Map<number, number>>;
  /** The stored state of each key in partition `partition`; every requested key is in the answer. */
  load(partition: number, keys: readonly string[]): Promise<Map<string, Lookup<D>>>;
  /**
   * Writes the documents and moves the partition's checkpoint to `checkpoint`, atomically where the store can
   * (Postgres transaction, Redis script); where it cannot (memcached), documents first, then the checkpoint.
   * A write whose position is not greater than the stored document's is skipped, and the checkpoint never
   * moves backwards, so re-applying a batch or applying an older one leaves the view unchanged.
   */
  commit(partition: number, writes: readonly DocumentWrite<D>[], checkpoint: number): Promise<void>;
  /** One key's document in one partition, for reads. */
  read(partition: number, key: string): Promise<Lookup<D>>;
  /** Drops every target of this version (retire); afterwards checkpoints() is empty. */
  drop(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the sink of a projection version. */
export type SinkFactory<D extends ProjectionDocument = ProjectionDocument> = (
  projection: ProjectionDefinition<D>,
) => Sink<D>;

/** `<ctx>.proj.<name>.v<N>`: the consumer group, and the prefix of every target name of the version. */
export function projectionGroupId(projection: { context: string; name: string; version: number }): string {
  return `${projection.context}.proj.${projection.name}.v${projection.version}`;
}

/** A watermark update: the projection version's partition has applied everything below `offset`. */
export interface WatermarkUpdate {
  context: string;
  projection: string;
  version: number;
  partition: number;
  offset: number;
}

/**
 * The channel on which projectors announce new watermarks and query APIs listen. It only wakes readers: the
 * store's checkpoints stay the authority, and a listener that (re)connects reloads them.
 */
export interface WatermarkBus {
  publish(updates: readonly WatermarkUpdate[]): Promise<void>;
  /** Calls `listener` for every update; `onReconnect` after a lost connection (reload from the stores). */
  subscribe(
    listener: (update: WatermarkUpdate) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** States of a projection version (issue 6 adds the transitions; a first version starts live). */
export type ProjectionVersionState = 'building' | 'live' | 'retired' | 'failed';

export interface ProjectionVersionRow {
  context: string;
  projection: string;
  version: number;
  store: StoreKind;
  state: ProjectionVersionState;
  active: boolean;
}

/**
 * The control table (Postgres): which versions of each projection exist and which one reads go to. A change of
 * the active version is one transaction and is announced to every listener.
 */
export interface ProjectionControl {
  /** Records a version if new; the first version of a projection becomes the active one. */
  register(projection: { context: string; name: string; version: number; store: StoreKind }): Promise<void>;
  /** The active version, or null when the projection has none. */
  activeVersion(context: string, projection: string): Promise<number | null>;
  /** Makes `version` the active one (atomically; issue 6's cutover and rollback use it). */
  activate(context: string, projection: string, version: number): Promise<void>;
  list(): Promise<ProjectionVersionRow[]>;
  /** Calls `listener` after every change of an active version (and on reconnect, to reload). */
  subscribe(listener: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
