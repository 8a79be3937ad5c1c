/**
 * A sink in process memory that follows the contract: the suite's own check, and a stand-in store for unit
 * tests of code that drives sinks. Versions sharing a `MemoryStore` behave like versions in one real store.
 */
import type {
  DocumentWrite,
  Lookup,
  ProjectionDefinition,
  ProjectionDocument,
  Sink,
  StoreKind,
} from '@tidemark/projection-runtime';
import { projectionGroupId } from '@tidemark/projection-runtime';

interface MemoryTarget {
  docs: Map<string, { doc: ProjectionDocument | null; position: number }>;
  checkpoints: Map<number, number>;
}

/** The "server": targets by projection group id. */
export class MemoryStore {
  readonly targets = new Map<string, MemoryTarget>();
}

function docKey(partition: number, key: string): string {
  return `${partition}\u0000${key}`;
}

/** structuredClone keeps callers from mutating stored documents (a real store serialises). */
function copy<T>(value: T): T {
  return structuredClone(value);
}

export function createMemorySink<D extends ProjectionDocument = ProjectionDocument>(
  definition: ProjectionDefinition<D>,
  store: MemoryStore = new MemoryStore(),
  kind: StoreKind = definition.store,
): Sink<D> {
  const id = projectionGroupId(definition);
  const target = (): MemoryTarget | undefined => store.targets.get(id);
  const lookup = (partition: number, key: string): Lookup<D> => {
    const found = target()?.docs.get(docKey(partition, key));
    if (!found) return 'absent';
    return { key, partition, doc: copy(found.doc) as D | null, position: found.position };
  };
  return {
    store: kind,
    async prepare() {
      if (!store.targets.has(id)) store.targets.set(id, { docs: new Map(), checkpoints: new Map() });
    },
    async checkpoints() {
      return new Map(target()?.checkpoints ?? []);
    },
    async load(partition: number, keys: readonly string[]) {
      return new Map(keys.map((key) => [key, lookup(partition, key)]));
    },
    async commit(partition: number, writes: readonly DocumentWrite<D>[], checkpoint: number) {
      const t = target();
      if (!t) throw new Error(`${id}: not prepared`);
      for (const w of writes) {
        const k = docKey(partition, w.key);
        const current = t.docs.get(k);
        if (current && current.position >= w.position) continue;
        t.docs.set(k, { doc: copy(w.doc), position: w.position });
      }
      t.checkpoints.set(partition, Math.max(t.checkpoints.get(partition) ?? checkpoint, checkpoint));
    },
    async read(partition: number, key: string) {
      return lookup(partition, key);
    },
    async drop() {
      store.targets.delete(id);
    },
    async close() {},
  };
}
