/**
 * Shadow reads of a gradual cutover (`tidemark cutover --shadow`): after a read answered by the active version,
 * the same read is done on the candidate version at the answer's token, off the response path and bounded, and
 * the two answers are compared. Counts go to Prometheus and, batched, to the control table (reportShadow), so
 * that `tidemark projections list` shows totals over every query API instance.
 *
 * Comparing "at the same token" is exact where positions are known: the active answer reflects every event below
 * its token T; the candidate reads once it covers T; a document whose position is <= T[partition] in both is the
 * fold of the same events, so different bodies are a real mismatch. A document written past T meanwhile (live
 * traffic) is no evidence either way: both versions are brought to the later position and read again, and if
 * that does not settle within the bound the read counts as skipped. Search answers carry no positions: they
 * are read again once both versions cover the later of their watermarks, and count as a mismatch only if they
 * still differ after the last attempt.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ProjectionControl, ShadowReport } from '@tidemark/projection-runtime';
import type { ConsistencyToken } from '@tidemark/schemas';
import type { QueryMetrics } from './metrics';
import type { TrackerLogger, WatermarkTracker } from './watermark-tracker';

export type ShadowOutcome = 'match' | 'mismatch' | 'skipped';

/** What one version answered, in a form that can be compared with another version's answer. */
export interface ShadowSnapshot {
  /** Compared with isDeepStrictEqual (null: not found). */
  value: unknown;
  /**
   * partition -> position of each document the answer was made of (0: absent). Unknown (undefined) for answers
   * that are not a few documents (search).
   */
  positions?: ReadonlyMap<number, number>;
  /** The store did not know (a cache lost the key): nothing to compare. */
  unknown?: boolean;
}

export interface ShadowProbe {
  projection: string;
  /** What was read (a key, or the search parameters): for the log and the report's sample. */
  key: string;
  /** The version that answered. */
  active: number;
  candidate: number;
  /** The token of the answer: the active version's watermark merged with the request token. */
  token: ConsistencyToken;
  /** The active version's answer. */
  answer: ShadowSnapshot;
  /** The same read on a version (the candidate, or the active one again). */
  read(version: number): Promise<ShadowSnapshot>;
}

export interface ShadowOptions {
  /** The longest a shadow read waits for the candidate (and retries) after the answer (250 ms). */
  waitMs?: number;
  /** How often counts are added to the control table (1000 ms). */
  flushMs?: number;
  /** Shadow reads at once; above it reads are counted as skipped (64). */
  maxInFlight?: number;
  /** At most one mismatch warning per projection per this many ms (1000). */
  warnEveryMs?: number;
}

export interface ShadowReadsDeps {
  context: string;
  tracker: WatermarkTracker;
  control: Pick<ProjectionControl, 'reportShadow'>;
  metrics: QueryMetrics;
  logger: TrackerLogger;
  options?: ShadowOptions;
}

/** Reads compared per answer at most (the first comparison and two re-reads). */
const MAX_ATTEMPTS = 3;
/** Mismatching keys kept per report (the control table keeps the newest 20). */
const SAMPLE_SIZE = 20;

interface Pending {
  projection: string;
  version: number;
  activeVersion: number;
  reads: number;
  mismatches: number;
  skipped: number;
  sample: { key: string; at: string }[];
}

export class ShadowReads {
  private readonly waitMs: number;
  private readonly flushMs: number;
  private readonly maxInFlight: number;
  private readonly warnEveryMs: number;
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly lastWarned = new Map<string, { at: number; suppressed: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: ShadowReadsDeps) {
    this.waitMs = deps.options?.waitMs ?? 250;
    this.flushMs = deps.options?.flushMs ?? 1000;
    this.maxInFlight = deps.options?.maxInFlight ?? 64;
    this.warnEveryMs = deps.options?.warnEveryMs ?? 1000;
  }

  /** Shadow reads under way. */
  get running(): number {
    return this.inFlight.size;
  }

  /** Resolves once the shadow reads under way now have finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Compares in the background (never throws, never delays the caller). */
  compare(probe: ShadowProbe): void {
    if (this.closed || this.inFlight.size >= this.maxInFlight) {
      this.record(probe, 'skipped');
      return;
    }
    const running = this.compareNow(probe).finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }

  /** Compares and records the outcome. */
  async compareNow(probe: ShadowProbe): Promise<ShadowOutcome> {
    let outcome: ShadowOutcome;
    try {
      outcome = await this.outcome(probe, Date.now() + this.waitMs);
    } catch (error) {
      this.deps.logger.debug({ err: error, projection: probe.projection }, 'shadow read failed');
      outcome = 'skipped';
    }
    this.record(probe, outcome);
    return outcome;
  }

  /** Adds the counts gathered so far to the control table; counts that could not be written are kept. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  /** Waits for the shadow reads under way (they are bounded), then flushes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
    await this.flush();
  }

  private async outcome(probe: ShadowProbe, deadline: number): Promise<ShadowOutcome> {
    const { tracker } = this.deps;
    const left = () => Math.max(0, deadline - Date.now());
    if (probe.answer.unknown) return 'skipped';
    let target = probe.token.positions;
    if (!(await this.reached(probe, probe.candidate, target, left()))) return 'skipped';
    let active = probe.answer;
    let candidate = await probe.read(probe.candidate);
    for (let attempt = 1; ; attempt++) {
      if (active.unknown || candidate.unknown) return 'skipped';
      if (isDeepStrictEqual(active.value, candidate.value)) return 'match';
      const positions =
        active.positions && candidate.positions ? [active.positions, candidate.positions] : null;
      if (positions?.every((p) => within(p, target))) return 'mismatch';
      if (attempt >= MAX_ATTEMPTS) return positions ? 'skipped' : 'mismatch';
      // Live traffic moved one of them past the token: bring both to the later point and read both again.
      target = positions
        ? maxOf(target, ...positions)
        : maxOf(
            target,
            tracker.watermark(probe.projection, probe.active),
            tracker.watermark(probe.projection, probe.candidate),
          );
      const [a, c] = await Promise.all([
        this.reached(probe, probe.active, target, left()),
        this.reached(probe, probe.candidate, target, left()),
      ]);
      if (!a || !c) return 'skipped';
      [active, candidate] = await Promise.all([probe.read(probe.active), probe.read(probe.candidate)]);
    }
  }

  /** Whether `version` covers the positions within timeoutMs. */
  private async reached(
    probe: ShadowProbe,
    version: number,
    positions: ReadonlyMap<number, number>,
    timeoutMs: number,
  ): Promise<boolean> {
    const token: ConsistencyToken = { topicIdentity: probe.token.topicIdentity, positions };
    try {
      await this.deps.tracker.waitFor(probe.projection, token, timeoutMs, undefined, version);
      return true;
    } catch {
      return false;
    }
  }

  private record(probe: ShadowProbe, outcome: ShadowOutcome): void {
    this.deps.metrics.shadowReads.inc({ projection: probe.projection, outcome });
    const id = `${probe.projection}\u0000${probe.candidate}\u0000${probe.active}`;
    let entry = this.pending.get(id);
    if (!entry) {
      entry = {
        projection: probe.projection,
        version: probe.candidate,
        activeVersion: probe.active,
        reads: 0,
        mismatches: 0,
        skipped: 0,
        sample: [],
      };
      this.pending.set(id, entry);
    }
    entry.reads++;
    if (outcome === 'skipped') entry.skipped++;
    if (outcome === 'mismatch') {
      entry.mismatches++;
      entry.sample.push({ key: probe.key, at: new Date().toISOString() });
      if (entry.sample.length > SAMPLE_SIZE) entry.sample.shift();
      this.warnMismatch(probe);
    }
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  private warnMismatch(probe: ShadowProbe): void {
    const now = Date.now();
    const last = this.lastWarned.get(probe.projection);
    if (last && now - last.at < this.warnEveryMs) {
      last.suppressed++;
      return;
    }
    this.lastWarned.set(probe.projection, { at: now, suppressed: 0 });
    this.deps.logger.warn(
      {
        projection: probe.projection,
        key: probe.key,
        activeVersion: probe.active,
        candidateVersion: probe.candidate,
        ...(last?.suppressed ? { suppressed: last.suppressed } : {}),
      },
      'shadow read: the candidate version answers differently',
    );
  }

  private async flushNow(): Promise<void> {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      const report: ShadowReport = { context: this.deps.context, ...entry };
      try {
        await this.deps.control.reportShadow(report);
      } catch (error) {
        this.deps.logger.warn(
          { err: error, projection: entry.projection },
          'could not report shadow reads; they are kept for the next flush',
        );
        this.restore(entry);
      }
    }
  }

  private restore(entry: Pending): void {
    const id = `${entry.projection}\u0000${entry.version}\u0000${entry.activeVersion}`;
    const current = this.pending.get(id);
    if (!current) {
      this.pending.set(id, entry);
      return;
    }
    current.reads += entry.reads;
    current.mismatches += entry.mismatches;
    current.skipped += entry.skipped;
    current.sample = [...entry.sample, ...current.sample].slice(-SAMPLE_SIZE);
  }
}

/** Whether every position is at most the token's offset on its partition (a missing partition counts as 0). */
function within(positions: ReadonlyMap<number, number>, token: ReadonlyMap<number, number>): boolean {
  for (const [partition, position] of positions) if (position > (token.get(partition) ?? 0)) return false;
  return true;
}

function maxOf(...maps: ReadonlyMap<number, number>[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const map of maps) {
    for (const [partition, offset] of map)
      if (offset > (out.get(partition) ?? -1)) out.set(partition, offset);
  }
  return out;
}
