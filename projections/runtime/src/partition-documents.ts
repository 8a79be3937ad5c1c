/**
 * A partition's documents as one projector generation sees them: loaded from the sink, committed to it with the
 * partition's checkpoint, and the documents it wrote kept in memory.
 *
 * The owner of a partition is its only writer during its generation, so the documents it wrote equal the
 * store's and need no load (a catch-up touches each aggregate several times; a live event usually follows a
 * recent one). Bounded (least recently written first out); a failed commit forgets them all, since the store's
 * state is then unknown. A new generation starts with a new instance.
 */
import type { DocumentWrite, Lookup, ProjectionDocument, Sink, StoredDocument } from './contracts';

export class PartitionDocuments<D extends ProjectionDocument> {
  private readonly written = new Map<string, StoredDocument<D>>();

  constructor(
    private readonly sink: Sink<D>,
    private readonly partition: number,
    /** Documents kept at most. */
    private readonly bound: number,
  ) {}

  /** The stored state of `keys`: this projector's own recent writes, the rest in one sink load. */
  async load(keys: Iterable<string>): Promise<Map<string, Lookup<D>>> {
    const loaded = new Map<string, Lookup<D>>();
    const missing: string[] = [];
    for (const key of keys) {
      const written = this.written.get(key);
      if (written) loaded.set(key, written);
      else missing.push(key);
    }
    if (missing.length > 0) {
      for (const [key, lookup] of await this.sink.load(this.partition, missing)) loaded.set(key, lookup);
    }
    return loaded;
  }

  /** Commits, then remembers what was written; a failed commit forgets everything (the store is unknown). */
  async commit(writes: readonly DocumentWrite<D>[], checkpoint: number): Promise<void> {
    const { partition, written } = this;
    try {
      await this.sink.commit(partition, writes, checkpoint);
    } catch (error) {
      written.clear();
      throw error;
    }
    for (const write of writes) {
      written.delete(write.key);
      written.set(write.key, { key: write.key, partition, doc: write.doc, position: write.position });
    }
    // Map order is insertion order: the first entries are the least recently written.
    for (const key of written.keys()) {
      if (written.size <= this.bound) break;
      written.delete(key);
    }
  }
}
