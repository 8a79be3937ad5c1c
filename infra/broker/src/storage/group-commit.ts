/**
 * Group commit: one flusher for the whole store. Appends write their bytes right away (no fsync) and enqueue a
 * commit entry. A flush round takes every entry queued before it started, waits for their writes, fdatasyncs
 * every file written (and fsyncs every directory that got a new file) since the previous round, then advances
 * each partition's high watermark and resolves the entries. Entries queued during a round wait for the next.
 */
import type { Logger } from 'pino';
import type { BrokerMetrics } from '../contracts';
import { fsyncDir } from './fs-util';
import type { Segment } from './segment';

/** What the committer needs from a partition log. */
export interface CommitTarget {
  readonly name: string;
  /** Set once a write or fsync failed: the partition accepts no more appends until restart. */
  failed: Error | null;
  fail(error: Error): void;
  /** Every offset below `endOffset` is durable; `segment` holds durable bytes up to `endPosition`. */
  markDurable(endOffset: number): void;
}

export interface CommitEntry {
  target: CommitTarget;
  /** The high watermark once this entry is durable. */
  endOffset: number;
  /** Segment and end position of the bytes written, or null (a duplicate waiting for earlier data). */
  segment: Segment | null;
  endPosition: number;
  write: Promise<void> | null;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class GroupCommitter {
  private pending: CommitEntry[] = [];
  private dirtySegments = new Map<Segment, CommitTarget>();
  private dirtyDirs = new Map<string, CommitTarget>();
  private running = false;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly metrics: BrokerMetrics,
    private readonly logger: Logger,
  ) {}

  /** Call right after issuing a write to `segment`. */
  markDirty(segment: Segment, target: CommitTarget): void {
    this.dirtySegments.set(segment, target);
  }

  /** Call after creating a file in `dir`. */
  markDirDirty(dir: string, target: CommitTarget): void {
    this.dirtyDirs.set(dir, target);
  }

  enqueue(entry: CommitEntry): void {
    this.pending.push(entry);
    this.schedule();
  }

  /** Resolves once everything queued so far is flushed and the flusher is idle. */
  drain(): Promise<void> {
    if (!this.running && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // setImmediate: let the requests already read from sockets append before the round starts.
    setImmediate(() => {
      this.scheduled = false;
      void this.loop();
    });
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length > 0) await this.round();
    } finally {
      this.running = false;
      if (this.pending.length > 0) {
        this.schedule();
      } else {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async round(): Promise<void> {
    const entries = this.pending;
    const segments = this.dirtySegments;
    const dirs = this.dirtyDirs;
    this.pending = [];
    this.dirtySegments = new Map();
    this.dirtyDirs = new Map();
    try {
      await this.commit(entries, segments, dirs);
    } catch (error) {
      // Not expected; never leave an append hanging, and never let its partition pretend the data is durable.
      const err = error instanceof Error ? error : new Error(String(error));
      this.logger.error({ err }, 'group commit round failed');
      for (const e of entries) {
        if (e.target.failed === null) e.target.fail(err);
        e.reject(err);
      }
    }
  }

  private async commit(
    entries: CommitEntry[],
    segments: Map<Segment, CommitTarget>,
    dirs: Map<string, CommitTarget>,
  ): Promise<void> {
    const fail = (target: CommitTarget, error: unknown): void => {
      const err = error instanceof Error ? error : new Error(String(error));
      if (target.failed === null) {
        this.logger.error(
          { err, partition: target.name },
          'storage write/fsync failed; partition stops accepting writes',
        );
        target.fail(err);
      }
    };

    await Promise.all(
      entries.map((e) =>
        e.write === null ? undefined : e.write.catch((err: unknown) => fail(e.target, err)),
      ),
    );
    await Promise.all([
      ...[...segments].map(async ([segment, target]) => {
        const start = process.hrtime.bigint();
        try {
          await segment.sync();
        } catch (err) {
          fail(target, err);
        } finally {
          this.metrics.fsyncSeconds(Number(process.hrtime.bigint() - start) / 1e9);
        }
      }),
      ...[...dirs].map(async ([dir, target]) => {
        try {
          await fsyncDir(dir);
        } catch (err) {
          fail(target, err);
        }
      }),
    ]);

    const ends = new Map<CommitTarget, number>();
    for (const e of entries) {
      if (e.target.failed !== null) continue;
      if (e.segment !== null && e.endPosition > e.segment.visibleSize) e.segment.visibleSize = e.endPosition;
      const prev = ends.get(e.target);
      if (prev === undefined || e.endOffset > prev) ends.set(e.target, e.endOffset);
    }
    for (const [target, end] of ends) target.markDurable(end);
    for (const e of entries) {
      if (e.target.failed !== null) {
        e.reject(e.target.failed);
      } else {
        e.resolve();
      }
    }
  }
}
