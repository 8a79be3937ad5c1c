/** In-memory implementations of the runtime contracts, for unit tests only (integration uses the real ones). */
import type {
  DocumentWrite,
  Lookup,
  ProjectionControl,
  ProjectionDocument,
  ProjectionVersionRow,
  Sink,
  StoredDocument,
  StoreKind,
  WatermarkBus,
  WatermarkUpdate,
} from '@tidemark/projection-runtime';

export class MemorySink<D extends ProjectionDocument = ProjectionDocument> implements Sink<D> {
  readonly docs = new Map<string, StoredDocument<D>>();
  readonly checkpointMap = new Map<number, number>();
  /** Keys a cache has lost: read() answers 'unknown'. */
  readonly evicted = new Set<string>();
  failReads = false;
  closed = false;
  reads = 0;

  constructor(readonly store: StoreKind) {}

  async prepare(): Promise<void> {}

  async checkpoints(): Promise<Map<number, number>> {
    return new Map(this.checkpointMap);
  }

  async load(partition: number, keys: readonly string[]): Promise<Map<string, Lookup<D>>> {
    return new Map(keys.map((key) => [key, this.lookup(partition, key)]));
  }

  async commit(partition: number, writes: readonly DocumentWrite<D>[], checkpoint: number): Promise<void> {
    for (const write of writes) {
      const id = `${partition}/${write.key}`;
      const stored = this.docs.get(id);
      if (stored && stored.position >= write.position) continue;
      this.docs.set(id, { key: write.key, partition, doc: write.doc, position: write.position });
      this.evicted.delete(id);
    }
    if (checkpoint > (this.checkpointMap.get(partition) ?? 0)) this.checkpointMap.set(partition, checkpoint);
  }

  async read(partition: number, key: string): Promise<Lookup<D>> {
    this.reads++;
    if (this.failReads) throw new Error('store down');
    return this.lookup(partition, key);
  }

  evict(partition: number, key: string): void {
    this.evicted.add(`${partition}/${key}`);
  }

  async drop(): Promise<void> {
    this.docs.clear();
    this.checkpointMap.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private lookup(partition: number, key: string): Lookup<D> {
    const id = `${partition}/${key}`;
    if (this.evicted.has(id)) return 'unknown';
    return this.docs.get(id) ?? (this.store === 'memcached' ? 'unknown' : 'absent');
  }
}

export class MemoryBus implements WatermarkBus {
  private readonly listeners = new Set<{
    listener: (u: WatermarkUpdate) => void;
    onReconnect?: () => void;
  }>();
  published: WatermarkUpdate[] = [];

  async publish(updates: readonly WatermarkUpdate[]): Promise<void> {
    this.published.push(...updates);
    for (const update of updates) for (const entry of this.listeners) entry.listener(update);
  }

  async subscribe(listener: (update: WatermarkUpdate) => void, onReconnect?: () => void) {
    const entry = { listener, ...(onReconnect ? { onReconnect } : {}) };
    this.listeners.add(entry);
    return async () => {
      this.listeners.delete(entry);
    };
  }

  /** Simulates a lost and regained connection. */
  reconnect(): void {
    for (const entry of this.listeners) entry.onReconnect?.();
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

export class MemoryControl implements ProjectionControl {
  readonly rows: ProjectionVersionRow[] = [];
  private readonly listeners = new Set<() => void>();

  async register(projection: { context: string; name: string; version: number; store: StoreKind }) {
    if (this.find(projection.context, projection.name, projection.version)) return;
    const first = !this.rows.some(
      (r) => r.context === projection.context && r.projection === projection.name,
    );
    this.rows.push({
      context: projection.context,
      projection: projection.name,
      version: projection.version,
      store: projection.store,
      state: 'live',
      active: first,
    });
    if (first) this.notify();
  }

  async activeVersion(context: string, projection: string): Promise<number | null> {
    return (
      this.rows.find((r) => r.context === context && r.projection === projection && r.active)?.version ?? null
    );
  }

  async activate(context: string, projection: string, version: number): Promise<void> {
    for (const row of this.rows) {
      if (row.context === context && row.projection === projection) row.active = row.version === version;
    }
    this.notify();
  }

  async list(): Promise<ProjectionVersionRow[]> {
    return this.rows.map((r) => ({ ...r }));
  }

  async subscribe(listener: () => void) {
    this.listeners.add(listener);
    return async () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private find(context: string, projection: string, version: number) {
    return this.rows.find(
      (r) => r.context === context && r.projection === projection && r.version === version,
    );
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** Lets pending promise callbacks (and chained ones) run. */
export const flush = async (rounds = 5) => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};
