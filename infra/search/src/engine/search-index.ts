/**
 * One index: documents with versions (the real-time view used by GET and version checks), version tombstones of
 * deleted documents, the pending changes not yet visible to search, and the query engine's searcher holding the
 * refreshed view. Writes are applied in memory synchronously (so version checks see every earlier write) and
 * acknowledged once their log line is durable.
 */
import type { Logger } from 'pino';
import { EsError, versionConflict } from '../http/errors';
import type { LogOp, OpLog, SnapshotState } from '../storage/op-log';
import type { AnalysisSettings } from './analysis';
import type { IndexSearcher, SearcherFactory } from './contracts';
import type { StoredMappings } from './mappings';
import { flattenMappings, validateDocument } from './mappings';

export interface IndexMeta {
  name: string;
  uuid: string;
  mappings: StoredMappings;
  /** Normalised `index.*` settings as strings, like ES returns them. */
  settings: Record<string, string>;
  /** `index.analysis` (keyword normalizers) as given; absent when the index defines none. */
  analysis?: AnalysisSettings;
  creationDate: number;
}

export interface DocRecord {
  version: number;
  seqNo: number;
  source: Record<string, unknown>;
}

export type VersionType = 'internal' | 'external' | 'external_gte';

export interface WriteRequest {
  kind: 'index' | 'create' | 'delete';
  id: string;
  source?: Record<string, unknown>;
  version?: number;
  versionType?: VersionType;
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
}

export interface WriteResult {
  result: 'created' | 'updated' | 'deleted' | 'not_found';
  version: number;
  seqNo: number;
  /** Resolves when the operation is durable; null when nothing was written. */
  durable: Promise<void> | null;
}

export const PRIMARY_TERM = 1;

export interface IndexHooks {
  logger: Logger;
  searcherFactory: SearcherFactory;
  onRefresh(index: string, seconds: number): void;
  snapshotEveryOps: number;
}

export class SearchIndex {
  readonly docs = new Map<string, DocRecord>();
  private readonly tombstones = new Map<string, { version: number; seqNo: number }>();
  /** id → source (upsert) or null (remove), applied to the searcher on the next refresh. */
  private pending = new Map<string, Record<string, unknown> | null>();
  private refreshWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private seqNo = -1;
  searcher: IndexSearcher;
  private closed = false;

  constructor(
    public meta: IndexMeta,
    readonly log: OpLog,
    private readonly hooks: IndexHooks,
    readonly refreshIntervalMs: number,
  ) {
    this.searcher = hooks.searcherFactory(meta.name, flattenMappings(meta.mappings, meta.analysis));
  }

  get name(): string {
    return this.meta.name;
  }

  /** Rebuilds the in-memory state and the searcher from the snapshot and the log (all of it is refreshed). */
  restore(state: SnapshotState, ops: LogOp[]): void {
    this.seqNo = state.seqNo;
    for (const [id, version, seqNo, source] of state.docs) this.docs.set(id, { version, seqNo, source });
    for (const [id, version, seqNo] of state.tombstones) this.tombstones.set(id, { version, seqNo });
    for (const op of ops) {
      if (op.op === 'index') {
        this.docs.set(op.id, { version: op.v, seqNo: op.seq, source: op.src });
        this.tombstones.delete(op.id);
      } else {
        this.docs.delete(op.id);
        this.tombstones.set(op.id, { version: op.v, seqNo: op.seq });
      }
      if (op.seq > this.seqNo) this.seqNo = op.seq;
    }
    for (const [id, doc] of this.docs) this.searcher.upsert(id, doc.source);
  }

  startRefreshTimer(): void {
    if (this.refreshIntervalMs <= 0) return;
    this.timer = setInterval(() => this.refresh(), this.refreshIntervalMs);
    this.timer.unref();
  }

  /** Applies a write to the real-time state and logs it. Throws EsError for conflicts and mapping errors. */
  write(request: WriteRequest): WriteResult {
    if (this.closed) throw new EsError(503, 'index_closed_exception', `index [${this.name}] is closing`);
    if (this.log.failed !== null)
      throw new EsError(
        500,
        'translog_exception',
        `index [${this.name}] storage failed: ${this.log.failed.message}`,
      );
    const { id } = request;
    const live = this.docs.get(id);
    const tombstone = this.tombstones.get(id);
    const versionType = request.versionType ?? 'internal';
    const conflict = (reason: string): EsError => versionConflict(this.name, this.meta.uuid, id, reason);

    if (request.ifSeqNo !== undefined || request.ifPrimaryTerm !== undefined) {
      const term = request.ifPrimaryTerm ?? PRIMARY_TERM;
      if (live === undefined)
        throw conflict(
          `version conflict, required seqNo [${request.ifSeqNo}], primary term [${term}]. but no document was found`,
        );
      if (live.seqNo !== request.ifSeqNo || term !== PRIMARY_TERM)
        throw conflict(
          `version conflict, required seqNo [${request.ifSeqNo}], primary term [${term}]. current document has seqNo [${live.seqNo}] and primary term [${PRIMARY_TERM}]`,
        );
    }
    if (request.kind === 'create' && live !== undefined)
      throw conflict(`version conflict, document already exists (current version [${live.version}])`);

    let version: number;
    if (versionType === 'internal') {
      version = (live?.version ?? tombstone?.version ?? 0) + 1;
    } else {
      const given = request.version;
      if (given === undefined)
        throw new EsError(
          400,
          'action_request_validation_exception',
          'Validation Failed: 1: an external version is required;',
        );
      const current = live?.version ?? tombstone?.version;
      if (current !== undefined) {
        const ok = versionType === 'external' ? given > current : given >= current;
        if (!ok)
          throw conflict(
            `version conflict, current version [${current}] is higher ${versionType === 'external' ? 'or equal to the one' : 'than the one'} provided [${given}]`,
          );
      }
      version = given;
    }

    if (request.kind === 'delete') {
      // Internal delete of a missing document writes nothing; an external one records the tombstone (as ES does).
      if (live === undefined && versionType === 'internal')
        return { result: 'not_found', version, seqNo: this.seqNo, durable: null };
      const seq = ++this.seqNo;
      this.docs.delete(id);
      this.tombstones.set(id, { version, seqNo: seq });
      if (live !== undefined) this.pending.set(id, null);
      const durable = this.log.append({ op: 'delete', id, v: version, seq });
      return { result: live === undefined ? 'not_found' : 'deleted', version, seqNo: seq, durable };
    }

    const source = request.source ?? {};
    validateDocument(this.meta.mappings, source, id, this.name);
    const seq = ++this.seqNo;
    this.docs.set(id, { version, seqNo: seq, source });
    this.tombstones.delete(id);
    this.pending.set(id, source);
    const durable = this.log.append({ op: 'index', id, v: version, seq, src: source });
    return { result: live === undefined ? 'created' : 'updated', version, seqNo: seq, durable };
  }

  /** Makes every write so far visible to search. */
  refresh(): void {
    if (this.pending.size > 0) {
      const start = process.hrtime.bigint();
      const changes = this.pending;
      this.pending = new Map();
      for (const [id, source] of changes) {
        if (source === null) this.searcher.remove(id);
        else this.searcher.upsert(id, source);
      }
      this.hooks.onRefresh(this.name, Number(process.hrtime.bigint() - start) / 1e9);
      this.maybeSnapshot();
    }
    const waiters = this.refreshWaiters;
    this.refreshWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** `refresh=wait_for`: resolves at the next refresh (forced when periodic refresh is off). */
  waitForRefresh(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.refreshWaiters.push(resolve));
    if (this.refreshIntervalMs <= 0) setImmediate(() => this.refresh());
    return done;
  }

  /** Replaces the searcher (after a mapping change) with one rebuilt from the refreshed documents. */
  rebuildSearcher(meta: IndexMeta): void {
    this.refresh();
    this.meta = meta;
    const searcher = this.hooks.searcherFactory(meta.name, flattenMappings(meta.mappings, meta.analysis));
    for (const [id, doc] of this.docs) searcher.upsert(id, doc.source);
    this.searcher = searcher;
  }

  private maybeSnapshot(): void {
    if (this.log.opsSinceSnapshot < this.hooks.snapshotEveryOps) return;
    this.snapshot().catch((err: unknown) =>
      this.hooks.logger.error(
        { err, index: this.name },
        'index snapshot failed (the log still has everything)',
      ),
    );
  }

  snapshot(): Promise<void> {
    return this.log.snapshot(() => ({
      seqNo: this.seqNo,
      docs: [...this.docs].map(([id, d]) => [id, d.version, d.seqNo, d.source]),
      tombstones: [...this.tombstones].map(([id, t]) => [id, t.version, t.seqNo]),
    }));
  }

  get maxSeqNo(): number {
    return this.seqNo;
  }

  /** Stops the timer; with `persist`, writes a snapshot so the next start replays less. */
  async close(persist: boolean): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.refresh();
    if (persist && this.log.opsSinceSnapshot > 0 && this.log.failed === null) await this.snapshot();
    await this.log.close();
  }
}
