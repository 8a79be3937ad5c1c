/**
 * Invariant 2 of docs/design.md: a view at watermark W equals the fold of its projection over the log below W.
 * The fold is the SDK's reference fold; this compares it with what a sink holds.
 */
import type { ProjectionDefinition, ProjectionDocument, Sink } from '@tidemark/projection-runtime';
import { canonicalJson, referenceFold } from '@tidemark/sdk/testing';
import type { LoggedEvent } from './log';

export type Fold = Map<number, Map<string, ProjectionDocument | null>>;

/** partition -> key -> document (null: deleted): the reference fold of the log, without positions. */
export function foldLog(definition: ProjectionDefinition, log: readonly LoggedEvent[]): Fold {
  const fold: Fold = new Map();
  for (const [partition, docs] of referenceFold(definition, log)) {
    fold.set(partition, new Map([...docs].map(([key, folded]) => [key, folded.doc])));
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
        if (canonicalJson(actual) !== canonicalJson(expected))
          differences.push({ partition, key, expected, actual });
      }
    }
  }
  return { checked, differences };
}
