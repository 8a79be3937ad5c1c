/**
 * The query API's in-memory picture of every view's watermark (DESIGN.md, Positions and tokens).
 *
 * Per (projection, version): partition -> the next offset not applied, loaded from the sink's checkpoints (the
 * authority) at start, on a bus reconnect and when the active version changes, and advanced (max) by the
 * watermark bus in between. Reads of a projection go to its active version (the control table); a read with a
 * token waits until that version's watermark covers it.
 *
 * Waiting does not poll. A waiter is indexed under one partition it still lacks, with the offset it needs there,
 * in a list sorted by that offset; a bus update of (projection, active version, partition p) up to offset w only
 * touches the waiters of p that need <= w. Each of those is checked again and either resolves or moves to the
 * next partition it lacks. A change of active version re-checks the projection's waiters.
 */
import type { ProjectionControl, WatermarkBus, WatermarkUpdate } from '@tidemark/projection-runtime';
import type { ConsistencyToken } from '@tidemark/schemas';
import { covers } from '@tidemark/schemas';
import { consistencyTimeout, QUERY_SHUTTING_DOWN, QueryError, requestAborted } from './errors';

/** The parts of a pino logger the tracker uses. */
export interface TrackerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

export interface WatermarkTrackerOptions {
  /** The context whose projections are tracked; bus updates of other contexts are ignored. */
  context: string;
  /** Projection names tracked (e.g. 'listing-detail'). */
  projections: readonly string[];
  bus: WatermarkBus;
  control: ProjectionControl;
  /** The checkpoints of a projection version's sink (the authority). */
  checkpoints: (projection: string, version: number) => Promise<Map<number, number>>;
  logger?: TrackerLogger;
}

/** A partition a waiter is not indexed under (being placed, or waiting for an active version). */
const NO_ACTIVE_VERSION = -1;

interface Waiter {
  readonly token: ConsistencyToken;
  /** Where it is indexed: a partition it lacks and the offset it needs there. */
  partition: number;
  threshold: number;
  settle(error?: Error): void;
}

interface VersionState {
  watermark: Map<number, number>;
  loaded: boolean;
  loading?: Promise<void>;
}

interface ProjectionState {
  active: number | null;
  versions: Map<number, VersionState>;
  /** partition -> waiters sorted by threshold (ascending); NO_ACTIVE_VERSION holds those waiting for one. */
  waiters: Map<number, Waiter[]>;
}

const silent: TrackerLogger = { info() {}, warn() {}, debug() {} };

export class WatermarkTracker {
  private readonly projections = new Map<string, ProjectionState>();
  private readonly logger: TrackerLogger;
  private unsubscribeBus: (() => Promise<void>) | undefined;
  private unsubscribeControl: (() => Promise<void>) | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private waiterCount = 0;
  private stopped = false;

  constructor(private readonly options: WatermarkTrackerOptions) {
    this.logger = options.logger ?? silent;
    for (const name of options.projections) {
      this.projections.set(name, { active: null, versions: new Map(), waiters: new Map() });
    }
  }

  /**
   * Subscribes to the bus and the control table first, then loads the active versions and their checkpoints, so
   * that no update between the load and the subscription is lost.
   */
  async start(): Promise<void> {
    this.unsubscribeBus = await this.options.bus.subscribe(
      (update) => this.onUpdate(update),
      () => {
        void this.reloadAll();
      },
    );
    this.unsubscribeControl = await this.options.control.subscribe(() => {
      void this.refresh();
    });
    await this.refresh();
  }

  /** Unsubscribes and fails every waiting read with a retryable 503. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const error = new QueryError(QUERY_SHUTTING_DOWN, 'the query API is shutting down', 503, true);
    for (const state of this.projections.values()) {
      const waiters = [...state.waiters.values()].flat();
      state.waiters.clear();
      for (const waiter of waiters) waiter.settle(error);
    }
    const unsubscribes = [this.unsubscribeBus, this.unsubscribeControl];
    this.unsubscribeBus = undefined;
    this.unsubscribeControl = undefined;
    await Promise.allSettled(unsubscribes.map((unsubscribe) => unsubscribe?.()));
  }

  /**
   * Reads the active version of every projection from the control table (serialised: a burst of control
   * notifications reloads in order). A new active version's checkpoints are loaded before reads switch to it.
   */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(() => this.refreshNow());
    return this.refreshing;
  }

  activeVersion(projection: string): number | null {
    return this.state(projection).active;
  }

  /** A copy of the watermark of a version (default: the active one); empty when unknown. */
  watermark(projection: string, version?: number | null): Map<number, number> {
    const state = this.state(projection);
    const wanted = version === undefined ? state.active : version;
    if (wanted === null) return new Map();
    return new Map(state.versions.get(wanted)?.watermark ?? []);
  }

  /** Whether the active version covers the token (false without an active version). */
  covers(projection: string, token: ConsistencyToken): boolean {
    const state = this.state(projection);
    if (state.active === null) return false;
    return covers(state.versions.get(state.active)?.watermark ?? new Map(), token);
  }

  /** Reads waiting now. */
  get waiting(): number {
    return this.waiterCount;
  }

  /**
   * Resolves as soon as the projection's active version covers the token; rejects with a retryable 503
   * CONSISTENCY_TIMEOUT after timeoutMs, with REQUEST_ABORTED when the signal fires, or QUERY_SHUTTING_DOWN.
   */
  waitFor(
    projection: string,
    token: ConsistencyToken,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const state = this.state(projection);
    this.ensureLoaded(projection, state);
    if (this.covers(projection, token)) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(requestAborted());
    if (this.stopped) {
      return Promise.reject(new QueryError(QUERY_SHUTTING_DOWN, 'the query API is shutting down', 503, true));
    }
    if (timeoutMs <= 0) return Promise.reject(this.timeoutError(projection, token, 0));
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const onAbort = () => waiter.settle(requestAborted());
      const waiter: Waiter = {
        token,
        partition: NO_ACTIVE_VERSION,
        threshold: 0,
        settle: (error) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.unindex(state, waiter);
          this.waiterCount--;
          if (error) reject(error);
          else resolve();
        },
      };
      this.waiterCount++;
      const timer = setTimeout(
        () => waiter.settle(this.timeoutError(projection, token, timeoutMs)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      // The one check after subscribing: from here on only bus updates and version changes wake it.
      this.place(state, waiter);
    });
  }

  /** Applies a bus update (also called by tests and by checkpoint loads): max per partition. */
  advance(projection: string, version: number, partition: number, offset: number): void {
    const state = this.projections.get(projection);
    if (!state) return;
    const watermark = this.versionState(state, version).watermark;
    const current = watermark.get(partition);
    if (current !== undefined && current >= offset) return;
    watermark.set(partition, offset);
    if (state.active === version) this.wake(state, partition, offset);
  }

  private onUpdate(update: WatermarkUpdate): void {
    if (update.context !== this.options.context) return;
    this.advance(update.projection, update.version, update.partition, update.offset);
  }

  private state(projection: string): ProjectionState {
    const state = this.projections.get(projection);
    if (!state) throw new Error(`projection '${projection}' is not tracked`);
    return state;
  }

  private versionState(state: ProjectionState, version: number): VersionState {
    let found = state.versions.get(version);
    if (!found) {
      found = { watermark: new Map(), loaded: false };
      state.versions.set(version, found);
    }
    return found;
  }

  /** A load that failed earlier (e.g. the store was down at start) is retried when a read needs the version. */
  private ensureLoaded(projection: string, state: ProjectionState): void {
    if (state.active === null) return;
    const version = this.versionState(state, state.active);
    if (!version.loaded && !version.loading) void this.load(projection, state.active);
  }

  private load(projection: string, version: number): Promise<void> {
    const state = this.state(projection);
    const entry = this.versionState(state, version);
    if (entry.loading) return entry.loading;
    entry.loading = (async () => {
      try {
        const checkpoints = await this.options.checkpoints(projection, version);
        for (const [partition, offset] of checkpoints) this.advance(projection, version, partition, offset);
        entry.loaded = true;
      } catch (error) {
        this.logger.warn(
          { err: error, projection, version },
          'could not load the checkpoints of a view; its watermark follows the bus until a reload succeeds',
        );
      } finally {
        entry.loading = undefined;
      }
    })();
    return entry.loading;
  }

  /** After a bus reconnect updates may have been missed: reload every version known. */
  private async reloadAll(): Promise<void> {
    this.logger.info({}, 'watermark bus reconnected: reloading checkpoints');
    const loads: Promise<void>[] = [];
    for (const [projection, state] of this.projections) {
      for (const version of state.versions.keys()) loads.push(this.load(projection, version));
    }
    await Promise.allSettled(loads);
  }

  private async refreshNow(): Promise<void> {
    if (this.stopped) return;
    for (const [projection, state] of this.projections) {
      let version: number | null;
      try {
        version = await this.options.control.activeVersion(this.options.context, projection);
      } catch (error) {
        this.logger.warn({ err: error, projection }, 'could not read the active version of a view');
        continue;
      }
      if (version === state.active) continue;
      if (version !== null) await this.load(projection, version);
      this.logger.info(
        { projection, from: state.active, to: version },
        'reads switch to another view version',
      );
      state.active = version;
      this.recheckAll(state);
    }
  }

  /** Indexes the waiter under the first partition its token lacks, or resolves it when covered. */
  private place(state: ProjectionState, waiter: Waiter): void {
    if (state.active === null) {
      this.index(state, waiter, NO_ACTIVE_VERSION, 0);
      return;
    }
    const watermark = state.versions.get(state.active)?.watermark ?? new Map<number, number>();
    for (const [partition, offset] of waiter.token.positions) {
      if ((watermark.get(partition) ?? 0) < offset) {
        this.index(state, waiter, partition, offset);
        return;
      }
    }
    waiter.settle();
  }

  private index(state: ProjectionState, waiter: Waiter, partition: number, threshold: number): void {
    waiter.partition = partition;
    waiter.threshold = threshold;
    let list = state.waiters.get(partition);
    if (!list) {
      list = [];
      state.waiters.set(partition, list);
    }
    // Binary search for the first waiter needing more: the list stays sorted by threshold.
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((list[mid] as Waiter).threshold <= threshold) low = mid + 1;
      else high = mid;
    }
    list.splice(low, 0, waiter);
  }

  private unindex(state: ProjectionState, waiter: Waiter): void {
    const list = state.waiters.get(waiter.partition);
    if (!list) return;
    const at = list.indexOf(waiter);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) state.waiters.delete(waiter.partition);
  }

  /** Wakes only the waiters of `partition` that need at most `offset` there. */
  private wake(state: ProjectionState, partition: number, offset: number): void {
    const list = state.waiters.get(partition);
    if (!list) return;
    let count = 0;
    while (count < list.length && (list[count] as Waiter).threshold <= offset) count++;
    if (count === 0) return;
    const woken = list.splice(0, count);
    if (list.length === 0) state.waiters.delete(partition);
    for (const waiter of woken) {
      waiter.partition = NO_ACTIVE_VERSION - 1;
      this.place(state, waiter);
    }
  }

  private recheckAll(state: ProjectionState): void {
    const all = [...state.waiters.values()].flat();
    state.waiters.clear();
    for (const waiter of all) {
      waiter.partition = NO_ACTIVE_VERSION - 1;
      this.place(state, waiter);
    }
  }

  private timeoutError(projection: string, token: ConsistencyToken, timeoutMs: number): QueryError {
    const state = this.state(projection);
    const watermark = this.watermark(projection);
    const lacking: Record<string, { required: number; applied: number }> = {};
    for (const [partition, offset] of token.positions) {
      const applied = watermark.get(partition) ?? 0;
      if (applied < offset) lacking[String(partition)] = { required: offset, applied };
    }
    return consistencyTimeout(projection, timeoutMs, { version: state.active, lacking });
  }
}
