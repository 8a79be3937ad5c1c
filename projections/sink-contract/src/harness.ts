import type { DocumentWrite, ProjectionDefinition, Sink, StoreKind } from '@tidemark/projection-runtime';

/**
 * What a sink's test file gives the shared contract suite (describeSinkContract). Keep it stable: every sink
 * (postgres, redis, memcached, elasticsearch) implements it.
 */
export interface SinkContractHarness {
  /** Starts the real store (runs once, in the suite's `before`). */
  before(): Promise<void>;
  /** Stops it (runs once, in the suite's `after`, after the suite closed every sink it created). */
  after(): Promise<void>;
  /**
   * A fresh, not yet prepared sink of the projection version. Every test uses its own projection name (and
   * sometimes two versions of it), so tests never share targets. The suite calls prepare() and close().
   */
  createSink(definition: ProjectionDefinition): Sink | Promise<Sink>;
  /** The StoreKind written into the test projections' `store` (default: the suite's storeName if it is one). */
  store?: StoreKind;
  /** What the store can and cannot promise; the suite adapts its expectations. */
  capabilities?: SinkCapabilities;
  /**
   * Simulates the store losing one key (cache eviction). Required when capabilities.mayForget; afterwards load
   * and read must answer 'unknown' for it.
   */
  forget?(sink: Sink, partition: number, key: string): Promise<void>;
  /**
   * Writes documents without moving the checkpoint: what a projector killed between the two steps of a
   * non-atomic commit leaves behind. Default: commit(partition, writes, <the partition's current checkpoint>).
   */
  writeDocumentsOnly?(sink: Sink, partition: number, writes: readonly DocumentWrite[]): Promise<void>;
}

export interface SinkCapabilities {
  /** commit writes documents and checkpoint all-or-nothing (default true; memcached: false). */
  atomicCommit?: boolean;
  /**
   * The store may lose documents (default false; memcached: true). Then 'unknown' is also accepted where
   * the suite expects 'absent' (never-written keys, after drop), and `forget` must be given.
   */
  mayForget?: boolean;
}
