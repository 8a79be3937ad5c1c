/**
 * The query API's in-memory picture of every view's watermark and route (DESIGN.md, Positions and tokens; Versions
 * and cutover).
 *
 * Per (projection, version): partition -> the next offset not applied, loaded from the sink's checkpoints (the
 * authority) when a version starts to matter (active, switch target, candidate), on a bus reconnect, and advanced
 * (max) by the watermark bus in between. The route of a projection comes from the control table: the active
 * version, and a candidate version while a gradual cutover (shadow or split reads) is under way.
 *
 * A change of active version does not move reads at once: reads switch to the new version only once its watermark
 * covers the old one's (as last known, checked in the same tick as the switch), so that within one instance the
 * watermark a view answers with never goes backwards. The cutover checked coverage before activating, so the wait
 * is short; it is bounded (switchTimeoutMs) in case the cutover was forced, and then reads switch anyway with a
 * warning naming the partitions that lack.
 *
 * Waiting does not poll. A waiter is indexed under (version, one partition it still lacks) with the offset it
 * needs there, in a list sorted by that offset; a bus update of (projection, version, partition p) up to offset w
 * only touches the waiters of (version, p) that need <= w. Each of those is checked again and either resolves or
 * moves to the next partition it lacks. Waiters that follow the active version are re-placed when it changes.
 */
import type {
  ProjectionCandidate,
  ProjectionControl,
  ProjectionRoute,
  WatermarkBus,
  WatermarkUpdate,
} from '@tidemark/projection-runtime';
import type { ConsistencyToken } from '@tidemark/schemas';
import { TidemarkError } from '@tidemark/schemas';
import { CONSISTENCY_TIMEOUT, consistencyTimeout, QUERY_SHUTTING_DOWN, requestAborted } from './errors';

/** The parts of a pino logger the tracker uses. */
export interface TrackerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

/** Reads of a projection switched from one version to another (`from` null: the first active version). */
export interface VersionSwitch {
  projection: string;
  from: number | null;
  to: number | null;
  /** False when the new version did not cover the old one's watermark within switchTimeoutMs. */
  covered: boolean;
  waitedMs: number;
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
  /** The longest reads stay on the old version after an activation, waiting for the new one to cover it (2000). */
  switchTimeoutMs?: number;
  /** Called whenever reads of a projection move to another version (metrics). */
  onSwitch?: (change: VersionSwitch) => void;
  logger?: TrackerLogger;
}

/** Where reads of a projection go now, as this instance sees it. */
export interface TrackedRoute {
  /** The version reads go to (null: none yet). */
  active: number | null;
  /** The control table's active version when reads have not switched to it yet (waiting for coverage), else null. */
  switching: number | null;
  /** The gradual cutover under way, or null. */
  candidate: ProjectionCandidate | null;
}

export const DEFAULT_SWITCH_TIMEOUT_MS = 2_000;

type Positions = ReadonlyMap<number, number>;

interface Waiter {
  readonly positions: Positions;
  /** null: whichever version is active (re-placed when it changes); a number: that version. */
  readonly follows: number | null;
  /** Where it is indexed: a version and a partition it lacks (null: waiting for an active version). */
  version: number | null;
  partition: number;
  threshold: number;
  settle(error?: Error): void;
}

interface VersionState {
  watermark: Map<number, number>;
  loaded: boolean;
  loading?: Promise<void>;
}

interface PendingSwitch {
  version: number;
  abort: AbortController;
}

interface ProjectionState {
  /** The version reads go to. */
  active: number | null;
  /** The control table's active version (reads move to it once it covers `active`). */
  target: number | null;
  pending: PendingSwitch | null;
  candidate: ProjectionCandidate | null;
  versions: Map<number, VersionState>;
  /** version -> partition -> waiters sorted by threshold (ascending). */
  waiters: Map<number, Map<number, Waiter[]>>;
  /** Waiters that follow the active version while there is none. */
  orphans: Set<Waiter>;
}

const silent: TrackerLogger = { info() {}, warn() {}, debug() {} };
const EMPTY: Positions = new Map();

export class WatermarkTracker {
  private readonly projections = new Map<string, ProjectionState>();
  private readonly logger: TrackerLogger;
  private readonly switchTimeoutMs: number;
  private unsubscribeBus: (() => Promise<void>) | undefined;
  private unsubscribeControl: (() => Promise<void>) | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private waiterCount = 0;
  private stopped = false;

  constructor(private readonly options: WatermarkTrackerOptions) {
    this.logger = options.logger ?? silent;
    this.switchTimeoutMs = options.switchTimeoutMs ?? DEFAULT_SWITCH_TIMEOUT_MS;
    for (const name of options.projections) {
      this.projections.set(name, {
        active: null,
        target: null,
        pending: null,
        candidate: null,
        versions: new Map(),
        waiters: new Map(),
        orphans: new Set(),
      });
    }
  }

  /**
   * Subscribes to the bus and the control table first, then loads the routes and their checkpoints, so that no
   * update between the load and the subscription is lost.
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
    const error = new TidemarkError(QUERY_SHUTTING_DOWN, 'the query API is shutting down', 503, true);
    for (const state of this.projections.values()) {
      state.pending?.abort.abort();
      state.pending = null;
      const waiters = [...state.orphans];
      for (const byPartition of state.waiters.values()) waiters.push(...[...byPartition.values()].flat());
      state.waiters.clear();
      state.orphans.clear();
      for (const waiter of waiters) waiter.settle(error);
    }
    const unsubscribes = [this.unsubscribeBus, this.unsubscribeControl];
    this.unsubscribeBus = undefined;
    this.unsubscribeControl = undefined;
    await Promise.allSettled(unsubscribes.map((unsubscribe) => unsubscribe?.()));
  }

  /**
   * Reads the routes from the control table (serialised: a burst of control notifications reloads in order). A
   * new version's checkpoints are loaded before it is used. When the active version changed, the returned
   * promise does not wait for reads to switch (see `route().switching`).
   */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(() => this.refreshNow());
    return this.refreshing;
  }

  activeVersion(projection: string): number | null {
    return this.state(projection).active;
  }

  /** Where reads of the projection go now. */
  route(projection: string): TrackedRoute {
    const state = this.state(projection);
    return {
      active: state.active,
      switching: state.pending?.version ?? null,
      candidate: state.candidate ? { ...state.candidate } : null,
    };
  }

  /** The gradual cutover under way for the projection, or null. */
  candidate(projection: string): ProjectionCandidate | null {
    const candidate = this.state(projection).candidate;
    return candidate ? { ...candidate } : null;
  }

  /** A copy of the watermark of a version (default: the active one); empty when unknown. */
  watermark(projection: string, version?: number | null): Map<number, number> {
    const state = this.state(projection);
    const wanted = version === undefined ? state.active : version;
    if (wanted === null) return new Map();
    return new Map(state.versions.get(wanted)?.watermark ?? []);
  }

  /** Whether a version (default: the active one) covers the token (false without an active version). */
  covers(projection: string, token: ConsistencyToken, version?: number): boolean {
    const state = this.state(projection);
    const wanted = version ?? state.active;
    if (wanted === null) return false;
    return lacking(state.versions.get(wanted)?.watermark ?? EMPTY, token.positions).size === 0;
  }

  /** Reads waiting now. */
  get waiting(): number {
    return this.waiterCount;
  }

  /**
   * Resolves as soon as the projection's active version (or `version`, e.g. the candidate) covers the token;
   * rejects with a retryable 503 CONSISTENCY_TIMEOUT after timeoutMs, with REQUEST_ABORTED when the signal fires,
   * or QUERY_SHUTTING_DOWN.
   */
  waitFor(
    projection: string,
    token: ConsistencyToken,
    timeoutMs: number,
    signal?: AbortSignal,
    version?: number,
  ): Promise<void> {
    return this.waitForPositions(projection, token.positions, timeoutMs, signal, version ?? null);
  }

  /** Applies a bus update (also called by tests and by checkpoint loads): max per partition. */
  advance(projection: string, version: number, partition: number, offset: number): void {
    const state = this.projections.get(projection);
    if (!state) return;
    const watermark = this.versionState(state, version).watermark;
    const current = watermark.get(partition);
    if (current !== undefined && current >= offset) return;
    watermark.set(partition, offset);
    this.wake(state, version, partition, offset);
  }

  private waitForPositions(
    projection: string,
    positions: Positions,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    follows: number | null,
  ): Promise<void> {
    const state = this.state(projection);
    const version = follows ?? state.active;
    if (version !== null) this.ensureLoaded(projection, state, version);
    if (version !== null && lacking(state.versions.get(version)?.watermark ?? EMPTY, positions).size === 0) {
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(requestAborted());
    if (this.stopped) {
      return Promise.reject(
        new TidemarkError(QUERY_SHUTTING_DOWN, 'the query API is shutting down', 503, true),
      );
    }
    if (timeoutMs <= 0) return Promise.reject(this.timeoutError(projection, positions, 0, version));
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const onAbort = () => waiter.settle(requestAborted());
      const waiter: Waiter = {
        positions,
        follows,
        version: null,
        partition: -1,
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
        () =>
          waiter.settle(this.timeoutError(projection, positions, timeoutMs, waiter.follows ?? state.active)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      // The one check after subscribing: from here on only bus updates and version changes wake it.
      this.place(state, waiter);
    });
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
  private ensureLoaded(projection: string, state: ProjectionState, version: number): void {
    const entry = this.versionState(state, version);
    if (!entry.loaded && !entry.loading) void this.load(projection, version);
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

  /**
   * After a bus reconnect updates may have been missed: reload the versions in use (active, switch target,
   * candidate); any other is reloaded when a read needs it (an old version's targets may be dropped by now).
   */
  private async reloadAll(): Promise<void> {
    this.logger.info({}, 'watermark bus reconnected: reloading checkpoints');
    const loads: Promise<void>[] = [];
    for (const [projection, state] of this.projections) {
      const inUse = new Set([state.active, state.pending?.version, state.candidate?.version]);
      for (const [version, entry] of state.versions) {
        if (inUse.has(version)) loads.push(this.load(projection, version));
        else entry.loaded = false;
      }
    }
    await Promise.allSettled(loads);
  }

  private async refreshNow(): Promise<void> {
    if (this.stopped) return;
    let routes: ProjectionRoute[];
    try {
      routes = await this.options.control.routes();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read the routes of the views');
      return;
    }
    for (const [projection, state] of this.projections) {
      const route =
        routes.find((r) => r.context === this.options.context && r.projection === projection) ?? null;
      await this.applyRoute(projection, state, route);
    }
  }

  private async applyRoute(
    projection: string,
    state: ProjectionState,
    route: ProjectionRoute | null,
  ): Promise<void> {
    const target = route?.active ?? null;
    const offered = route?.candidate && route.candidate.version !== target ? route.candidate : null;
    if (!sameCandidate(offered, state.candidate)) {
      // Loaded before reads use it: its watermark must be the store's, not only what the bus said since.
      if (offered && offered.version !== state.candidate?.version)
        await this.load(projection, offered.version);
      this.logger.info({ projection, from: state.candidate, to: offered }, 'gradual cutover changed');
      state.candidate = offered ? { ...offered } : null;
    }
    if (target === state.target) return;
    state.target = target;
    if (state.pending && state.pending.version !== target) {
      state.pending.abort.abort();
      state.pending = null;
    }
    if (target === null || target === state.active) {
      // Back to the version still read (a rollback before the switch happened), or no route at all.
      if (target === null && state.active !== null) this.switchTo(projection, state, null, true, 0);
      return;
    }
    await this.load(projection, target);
    if (state.target !== target || this.stopped) return;
    if (state.active === null) {
      this.switchTo(projection, state, target, true, 0);
      return;
    }
    void this.switchWhenCovered(projection, state, target);
  }

  /**
   * Moves reads to `target` once its watermark covers the version read now. The check and the switch happen in
   * one tick, so no read in between can have answered with a watermark the new version lacks.
   */
  private async switchWhenCovered(projection: string, state: ProjectionState, target: number): Promise<void> {
    const started = Date.now();
    const deadline = started + this.switchTimeoutMs;
    const pending: PendingSwitch = { version: target, abort: new AbortController() };
    state.pending = pending;
    for (;;) {
      if (state.pending !== pending || this.stopped) return;
      const old = state.active === null ? EMPTY : this.versionState(state, state.active).watermark;
      const missing = lacking(this.versionState(state, target).watermark, old);
      if (missing.size === 0) {
        this.switchTo(projection, state, target, true, Date.now() - started);
        return;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.logger.warn(
          {
            projection,
            from: state.active,
            to: target,
            waitedMs: Date.now() - started,
            lacking: Object.fromEntries(
              [...missing].map(([partition, [required, applied]]) => [partition, { required, applied }]),
            ),
          },
          'the new active version does not cover the old one: reads switch anyway (a forced cutover?)',
        );
        this.switchTo(projection, state, target, false, Date.now() - started);
        return;
      }
      try {
        await this.waitForPositions(projection, new Map(old), remaining, pending.abort.signal, target);
      } catch (error) {
        if (!(error instanceof TidemarkError) || error.code !== CONSISTENCY_TIMEOUT) return;
      }
    }
  }

  private switchTo(
    projection: string,
    state: ProjectionState,
    version: number | null,
    covered: boolean,
    waitedMs: number,
  ): void {
    const from = state.active;
    state.active = version;
    if (state.pending?.version === version) state.pending = null;
    this.logger.info(
      { projection, from, to: version, covered, waitedMs },
      'reads switch to another view version',
    );
    try {
      this.options.onSwitch?.({ projection, from, to: version, covered, waitedMs });
    } catch (error) {
      this.logger.warn({ err: error }, 'a version switch listener failed');
    }
    this.recheckFollowers(state);
  }

  /** Indexes the waiter under the first partition its version lacks, or resolves it when covered. */
  private place(state: ProjectionState, waiter: Waiter): void {
    const version = waiter.follows ?? state.active;
    if (version === null) {
      waiter.version = null;
      state.orphans.add(waiter);
      return;
    }
    const watermark = state.versions.get(version)?.watermark ?? EMPTY;
    for (const [partition, offset] of waiter.positions) {
      if ((watermark.get(partition) ?? 0) < offset) {
        this.index(state, waiter, version, partition, offset);
        return;
      }
    }
    waiter.settle();
  }

  private index(
    state: ProjectionState,
    waiter: Waiter,
    version: number,
    partition: number,
    threshold: number,
  ): void {
    waiter.version = version;
    waiter.partition = partition;
    waiter.threshold = threshold;
    let byPartition = state.waiters.get(version);
    if (!byPartition) {
      byPartition = new Map();
      state.waiters.set(version, byPartition);
    }
    let list = byPartition.get(partition);
    if (!list) {
      list = [];
      byPartition.set(partition, list);
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
    if (waiter.version === null) {
      state.orphans.delete(waiter);
      return;
    }
    const byPartition = state.waiters.get(waiter.version);
    const list = byPartition?.get(waiter.partition);
    if (!byPartition || !list) return;
    const at = list.indexOf(waiter);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) byPartition.delete(waiter.partition);
    if (byPartition.size === 0) state.waiters.delete(waiter.version);
  }

  /** Wakes only the waiters of (version, partition) that need at most `offset` there. */
  private wake(state: ProjectionState, version: number, partition: number, offset: number): void {
    const byPartition = state.waiters.get(version);
    const list = byPartition?.get(partition);
    if (!byPartition || !list) return;
    let count = 0;
    while (count < list.length && (list[count] as Waiter).threshold <= offset) count++;
    if (count === 0) return;
    const woken = list.splice(0, count);
    if (list.length === 0) byPartition.delete(partition);
    if (byPartition.size === 0) state.waiters.delete(version);
    for (const waiter of woken) {
      waiter.version = null;
      waiter.partition = -1;
      this.place(state, waiter);
    }
  }

  /** Re-places the waiters that follow the active version (it changed). */
  private recheckFollowers(state: ProjectionState): void {
    const followers = [...state.orphans];
    state.orphans.clear();
    for (const byPartition of state.waiters.values()) {
      for (const list of byPartition.values())
        for (const waiter of list) if (waiter.follows === null) followers.push(waiter);
    }
    for (const waiter of followers) {
      this.unindex(state, waiter);
      waiter.version = null;
      waiter.partition = -1;
      this.place(state, waiter);
    }
  }

  private timeoutError(
    projection: string,
    positions: Positions,
    timeoutMs: number,
    version: number | null,
  ): TidemarkError {
    const state = this.state(projection);
    const watermark = version === null ? EMPTY : (state.versions.get(version)?.watermark ?? EMPTY);
    const missing: Record<string, { required: number; applied: number }> = {};
    for (const [partition, [required, applied]] of lacking(watermark, positions)) {
      missing[String(partition)] = { required, applied };
    }
    return consistencyTimeout(projection, timeoutMs, { version, lacking: missing });
  }
}

/** partition -> [required, applied] for every partition where the watermark is below the positions. */
function lacking(watermark: Positions, positions: Positions): Map<number, [number, number]> {
  const missing = new Map<number, [number, number]>();
  for (const [partition, offset] of positions) {
    const applied = watermark.get(partition) ?? 0;
    if (applied < offset) missing.set(partition, [offset, applied]);
  }
  return missing;
}

function sameCandidate(a: ProjectionCandidate | null, b: ProjectionCandidate | null): boolean {
  if (a === null || b === null) return a === b;
  return a.version === b.version && a.mode === b.mode && a.percent === b.percent;
}
