/**
 * The pure part of the cutover check: whether the version switched to has applied at least what the active one
 * had, partition by partition (no I/O here: cutover.ts reads the checkpoints and waits).
 */

export interface CoverageEntry {
  partition: number;
  /** Checkpoint of the active version. */
  active: number;
  /** Checkpoint of the version switched to. */
  target: number;
}

export interface CoverageComparison {
  /** Every partition of the context, and any other either side has a checkpoint for, ascending. */
  entries: CoverageEntry[];
  /** The entries where the target is behind the active version. */
  lagging: CoverageEntry[];
  /** The checkpoints by partition, as recorded in the audit log. */
  watermarks: { from: Record<string, number>; to: Record<string, number> };
}

/** Whether `target` covers `active` on every partition (a partition never written counts as 0). */
export function covers(active: ReadonlyMap<number, number>, target: ReadonlyMap<number, number>): boolean {
  return [...active].every(([partition, offset]) => (target.get(partition) ?? 0) >= offset);
}

/** The checkpoints of both versions side by side over `partitions` partitions, and where the target lags. */
export function compareCoverage(
  active: ReadonlyMap<number, number>,
  target: ReadonlyMap<number, number>,
  partitions: number,
): CoverageComparison {
  const all = new Set([
    ...Array.from({ length: partitions }, (_, p) => p),
    ...active.keys(),
    ...target.keys(),
  ]);
  const entries: CoverageEntry[] = [...all]
    .sort((x, y) => x - y)
    .map((partition) => ({
      partition,
      active: active.get(partition) ?? 0,
      target: target.get(partition) ?? 0,
    }));
  return {
    entries,
    lagging: entries.filter((e) => e.target < e.active),
    watermarks: {
      from: Object.fromEntries(entries.map((e) => [String(e.partition), e.active])),
      to: Object.fromEntries(entries.map((e) => [String(e.partition), e.target])),
    },
  };
}
