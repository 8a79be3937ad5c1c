/**
 * Invariant 2 of DESIGN.md: a view at watermark W equals the fold of its projection over the log below W. This
 * recomputes the fold from the log itself and compares it with what a sink holds.
 */
import type { ProjectionDefinition, ProjectionDocument, Sink } from '@tidemark/projection-runtime';
import type { LoggedEvent } from './log';

export type Fold = Map<number, Map<string, ProjectionDocument | null>>;

/** partition -> key -> document (null: deleted), folding every event of the log in partition order. */
export function foldLog(definition: ProjectionDefinition, log: readonly LoggedEvent[]): Fold {
  const fold: Fold = new Map();
  const types = new Set(definition.eventTypes);
  for (const { partition, event } of log) {
    if (!types.has(event.type)) continue;
    let docs = fold.get(partition);
    if (!docs) {
      docs = new Map();
      fold.set(partition, docs);
    }
    for (const key of definition.keys(event)) {
      docs.set(key, definition.apply(docs.get(key) ?? null, event, key));
    }
  }
  return fold;
}

export interface FoldDifference {
  partition: number;
  key: string;
  expected: ProjectionDocument | null;
  actual: unknown;
}

/** Every key of the fold, read back from the sink; a document that differs (or is unknown) is a difference. */
export async function compareWithFold(
  sink: Sink,
  fold: Fold,
): Promise<{ checked: number; differences: FoldDifference[] }> {
  const differences: FoldDifference[] = [];
  let checked = 0;
  for (const [partition, docs] of fold) {
    const keys = [...docs.keys()];
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const loaded = await sink.load(partition, chunk);
      for (const key of chunk) {
        checked++;
        const expected = docs.get(key) ?? null;
        const found = loaded.get(key);
        const actual =
          found === undefined || found === 'absent' ? null : found === 'unknown' ? 'unknown' : found.doc;
        if (JSON.stringify(canonical(actual)) !== JSON.stringify(canonical(expected))) {
          differences.push({ partition, key, expected, actual });
        }
      }
    }
  }
  return { checked, differences };
}

/** JSON with sorted keys, so documents compare by content. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}
