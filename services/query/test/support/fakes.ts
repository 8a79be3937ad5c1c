/** In-memory implementations of the runtime contracts, for unit tests only (integration uses the real ones). */
import type {
  AuditEntry,
  AuditRecord,
  DocumentWrite,
  Lookup,
  ProjectionCandidate,
  ProjectionControl,
  ProjectionDocument,
  ProjectionRoute,
  ProjectionVersionRow,
  ProjectionVersionState,
  ShadowReport,
  Sink,
  StoredDocument,
  StoreKind,
  WatermarkBus,
  WatermarkUpdate,
} from '@tidemark/projection-runtime';
import { ControlConflictError } from '@tidemark/projection-runtime';

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

/**
 * The control table in memory, with the contract's rules that reads depend on: the first version registered is
 * live and active, activate() records the previous version and clears the candidate, and every change notifies.
 */
export class MemoryControl implements ProjectionControl {
  readonly rows: ProjectionVersionRow[] = [];
  readonly routeRows = new Map<string, ProjectionRoute>();
  readonly shadow: ShadowReport[] = [];
  readonly audits: AuditRecord[] = [];
  /** Set to make reportShadow fail (a control table that is down). */
  failReports = false;
  private readonly listeners = new Set<() => void>();

  async register(
    projection: { context: string; name: string; version: number; store: StoreKind },
    options: { state?: ProjectionVersionState } = {},
  ) {
    if (this.find(projection.context, projection.name, projection.version)) return;
    const first = !this.rows.some(
      (r) => r.context === projection.context && r.projection === projection.name,
    );
    const now = new Date();
    this.rows.push({
      context: projection.context,
      projection: projection.name,
      version: projection.version,
      store: projection.store,
      // Tests register later versions to read them: live unless told otherwise.
      state: first ? 'live' : (options.state ?? 'live'),
      active: first,
      registeredAt: now,
      updatedAt: now,
      retireAfter: null,
      droppedAt: null,
    });
    if (first) {
      this.routeRows.set(this.id(projection.context, projection.name), {
        context: projection.context,
        projection: projection.name,
        active: projection.version,
        previous: null,
        candidate: null,
        changedAt: now,
      });
    }
    this.notify();
  }

  async activeVersion(context: string, projection: string): Promise<number | null> {
    return this.routeRows.get(this.id(context, projection))?.active ?? null;
  }

  async route(context: string, projection: string): Promise<ProjectionRoute | null> {
    const route = this.routeRows.get(this.id(context, projection));
    return route ? copyRoute(route) : null;
  }

  async routes(): Promise<ProjectionRoute[]> {
    return [...this.routeRows.values()].map(copyRoute);
  }

  async activate(
    context: string,
    projection: string,
    version: number,
    options: { expectedActive?: number; audit?: AuditEntry; beforeCommit?: () => Promise<void> } = {},
  ): Promise<void> {
    const row = this.find(context, projection, version);
    if (!row) throw new ControlConflictError('UNKNOWN_VERSION', `no version ${version}`);
    if (row.state !== 'live')
      throw new ControlConflictError('VERSION_NOT_LIVE', `version ${version} is not live`);
    const route = this.routeRows.get(this.id(context, projection));
    if (options.expectedActive !== undefined && route?.active !== options.expectedActive) {
      throw new ControlConflictError('ROUTE_CHANGED', 'the active version changed meanwhile');
    }
    await options.beforeCommit?.();
    for (const r of this.rows) {
      if (r.context === context && r.projection === projection) r.active = r.version === version;
    }
    this.routeRows.set(this.id(context, projection), {
      context,
      projection,
      active: version,
      previous: route && route.active !== version ? route.active : (route?.previous ?? null),
      candidate: null,
      changedAt: new Date(),
    });
    if (options.audit) await this.audit(options.audit);
    this.notify();
  }

  async setCandidate(
    context: string,
    projection: string,
    candidate: ProjectionCandidate | null,
    options: { audit?: AuditEntry } = {},
  ): Promise<void> {
    const route = this.routeRows.get(this.id(context, projection));
    if (!route) throw new ControlConflictError('UNKNOWN_PROJECTION', `no route of ${projection}`);
    if (candidate) {
      const row = this.find(context, projection, candidate.version);
      if (!row) throw new ControlConflictError('UNKNOWN_VERSION', `no version ${candidate.version}`);
      if (row.state !== 'live') throw new ControlConflictError('VERSION_NOT_LIVE', 'not live');
      if (route.active === candidate.version) throw new ControlConflictError('VERSION_ACTIVE', 'active');
    }
    route.candidate = candidate ? { ...candidate } : null;
    route.changedAt = new Date();
    if (options.audit) await this.audit(options.audit);
    this.notify();
  }

  async setState(
    context: string,
    projection: string,
    version: number,
    state: ProjectionVersionState,
    options: { retireAfter?: Date; audit?: AuditEntry } = {},
  ): Promise<void> {
    const row = this.find(context, projection, version);
    if (!row) throw new ControlConflictError('UNKNOWN_VERSION', `no version ${version}`);
    if (state === 'retired' && row.active) throw new ControlConflictError('VERSION_ACTIVE', 'active');
    row.state = state;
    row.updatedAt = new Date();
    row.retireAfter = state === 'retired' ? (options.retireAfter ?? new Date()) : null;
    if (options.audit) await this.audit(options.audit);
    this.notify();
  }

  async markDropped(context: string, projection: string, version: number): Promise<void> {
    const row = this.find(context, projection, version);
    if (row) row.droppedAt = new Date();
  }

  async list(): Promise<ProjectionVersionRow[]> {
    return this.rows.map((r) => ({ ...r }));
  }

  async reportShadow(report: ShadowReport): Promise<void> {
    if (this.failReports) throw new Error('control table down');
    this.shadow.push({ ...report, sample: [...report.sample] });
  }

  /** The reports summed per (projection, candidate version). */
  async shadowReports(context: string, projection: string): Promise<ShadowReport[]> {
    const sums = new Map<number, ShadowReport>();
    for (const report of this.shadow) {
      if (report.context !== context || report.projection !== projection) continue;
      const sum = sums.get(report.version);
      if (!sum) {
        sums.set(report.version, { ...report, sample: [...report.sample] });
        continue;
      }
      sum.reads += report.reads;
      sum.mismatches += report.mismatches;
      sum.skipped += report.skipped;
      sum.activeVersion = report.activeVersion;
      sum.sample = [...sum.sample, ...report.sample].slice(-20);
    }
    return [...sums.values()];
  }

  async audit(entry: AuditEntry): Promise<void> {
    this.audits.unshift({
      id: this.audits.length + 1,
      at: new Date(),
      actor: entry.actor,
      action: entry.action,
      context: entry.context,
      projection: entry.projection,
      version: entry.version ?? null,
      reason: entry.reason ?? null,
      details: entry.details ?? {},
    });
  }

  async auditLog(filter: { context?: string; projection?: string; limit?: number } = {}) {
    return this.audits
      .filter(
        (a) =>
          (filter.context === undefined || a.context === filter.context) &&
          (filter.projection === undefined || a.projection === filter.projection),
      )
      .slice(0, filter.limit ?? 100);
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

  private id(context: string, projection: string): string {
    return `${context}/${projection}`;
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

function copyRoute(route: ProjectionRoute): ProjectionRoute {
  return { ...route, candidate: route.candidate ? { ...route.candidate } : null };
}

/** Lets pending promise callbacks (and chained ones) run. */
export const flush = async (rounds = 5) => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/**
 * Resolves once `check` holds (polled every millisecond); fails after `timeoutMs`. For "the read is waiting now"
 * rather than a timer that guesses when it will be, which a loaded machine outruns.
 */
export async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
