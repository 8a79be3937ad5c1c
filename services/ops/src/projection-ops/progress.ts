/** Replay progress: a rolling rate, and how the CLI shows it (pure, so it is unit-tested). */

export interface ReplayPartitionProgress {
  partition: number;
  checkpoint: number;
  logEnd: number;
  lag: number;
}

export interface ReplayProgress {
  /** Offsets applied by this run (the sum over partitions of checkpoint growth since it started). */
  appliedEvents: number;
  /** Offsets applied in total (sum of checkpoints, including what earlier runs applied). */
  checkpointTotal: number;
  /** Sum of the log ends last read. */
  logEndTotal: number;
  /** Rolling rate over the last few seconds. */
  eventsPerSecond: number;
  /** Sum over partitions of log end minus checkpoint. */
  lag: number;
  /** lag / rate, or null while the rate is unknown (0). */
  etaSeconds: number | null;
  elapsedSeconds: number;
  partitions: ReplayPartitionProgress[];
}

/** Events per second over a sliding window of samples (the first sample anchors the window). */
export class RateMeter {
  private readonly samples: { at: number; value: number }[] = [];

  constructor(private readonly windowMs = 5_000) {}

  /** Records the cumulative `value` at time `at` (ms) and returns the rate over the window. */
  sample(at: number, value: number): number {
    this.samples.push({ at, value });
    while (this.samples.length > 2 && (this.samples[1]?.at ?? at) <= at - this.windowMs) this.samples.shift();
    const first = this.samples[0];
    if (!first || at <= first.at) return 0;
    return Math.max(0, ((value - first.value) * 1000) / (at - first.at));
  }
}

/**
 * One poll of a replay: each partition's checkpoint against the log end read just before it. `initialTotal` is
 * the checkpoints' sum when the run started (what this run applied is the growth since), `meter` rates it.
 */
export function replayProgress(
  checkpoints: readonly number[],
  ends: readonly number[],
  run: { initialTotal: number; meter: RateMeter; started: number; now: number },
): ReplayProgress {
  const total = checkpoints.reduce((a, b) => a + b, 0);
  const applied = Math.max(0, total - run.initialTotal);
  const rate = run.meter.sample(run.now, applied);
  const partitions: ReplayPartitionProgress[] = checkpoints.map((checkpoint, partition) => {
    const logEnd = ends[partition] ?? 0;
    return { partition, checkpoint, logEnd, lag: Math.max(0, logEnd - checkpoint) };
  });
  const lag = partitions.reduce((sum, p) => sum + p.lag, 0);
  return {
    appliedEvents: applied,
    checkpointTotal: total,
    logEndTotal: ends.reduce((a, b) => a + b, 0),
    eventsPerSecond: rate,
    lag,
    etaSeconds: lag === 0 ? 0 : rate > 0 ? lag / rate : null,
    elapsedSeconds: (run.now - run.started) / 1000,
    partitions,
  };
}

const grouped = (n: number) => Math.round(n).toLocaleString('en-US');

function eta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `[#####.....] 45% 450,123/1,000,000 events  38,201 ev/s  lag 549,877  ETA 14s` */
export function formatProgress(progress: ReplayProgress, width = 10): string {
  const total = Math.max(progress.logEndTotal, progress.checkpointTotal);
  const done = Math.min(progress.checkpointTotal, total);
  const ratio = total === 0 ? 1 : done / total;
  const filled = Math.min(width, Math.floor(ratio * width));
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  return (
    `${bar} ${Math.floor(ratio * 100)}% ${grouped(done)}/${grouped(total)} events  ` +
    `${grouped(progress.eventsPerSecond)} ev/s  lag ${grouped(progress.lag)}  ETA ${eta(progress.etaSeconds)}`
  );
}

/** The final line of a replay: `replay <projection> v<N> live: <events> events in <s> s (<rate> events/s)`. */
export function formatReplaySummary(
  projection: string,
  version: number,
  appliedEvents: number,
  seconds: number,
): string {
  const rate = seconds > 0 ? appliedEvents / seconds : appliedEvents;
  return `replay ${projection} v${version} live: ${appliedEvents} events in ${seconds.toFixed(1)} s (${Math.round(rate)} events/s)`;
}
