/**
 * The reference fold (invariant 2: a view at watermark W equals the fold of its projection over the log below W):
 * the whole log folded in memory, partition by partition in offset order, with no store in between. Tests compare
 * a store's view with it; `tidemark diff`'s notion of equal documents is the same canonical JSON.
 */
import type { EventEnvelope } from '@tidemark/schemas';
import type { ProjectionDefinition, ProjectionDocument } from '../projection';

/** An event as the log holds it: the envelope at `offset` of `partition`. */
export interface LogEntry {
  partition: number;
  offset: number;
  event: EventEnvelope;
}

export interface FoldedDocument<D extends ProjectionDocument = ProjectionDocument> {
  /** null: the fold ends in "no document" (deleted, or apply never created one). */
  doc: D | null;
  /** Offset just past the last event applied to the key. */
  position: number;
}

/** partition -> key -> folded document. */
export type FoldResult<D extends ProjectionDocument = ProjectionDocument> = Map<
  number,
  Map<string, FoldedDocument<D>>
>;

/** The distinct keys an event touches, or [] for a type the projection does not read. */
export function keysOf(definition: ProjectionDefinition, event: EventEnvelope): string[] {
  if (!definition.eventTypes.includes(event.type)) return [];
  return [...new Set(definition.keys(event))];
}

/** Folds `log` (any order; applied per partition in offset order) purely in memory. */
export function referenceFold<D extends ProjectionDocument>(
  definition: ProjectionDefinition<D>,
  log: Iterable<LogEntry>,
): FoldResult<D> {
  const sorted = [...log].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const result: FoldResult<D> = new Map();
  for (const { partition, offset, event } of sorted) {
    let docs = result.get(partition);
    if (!docs) {
      docs = new Map();
      result.set(partition, docs);
    }
    for (const key of keysOf(definition, event)) {
      const current = docs.get(key)?.doc ?? null;
      docs.set(key, { doc: definition.apply(current, event, key), position: offset + 1 });
    }
  }
  return result;
}

/**
 * The document a read of `key` returns from the fold: the one partition's document, or for a gathering view
 * (keyScope 'all') the merge of every partition's sub-document. null when there is none.
 */
export function foldedDocument<D extends ProjectionDocument>(
  definition: ProjectionDefinition<D>,
  fold: FoldResult<D>,
  key: string,
): D | null {
  const parts: D[] = [];
  for (const docs of fold.values()) {
    const doc = docs.get(key)?.doc;
    if (doc) parts.push(doc);
  }
  if (parts.length === 0) return null;
  if (definition.keyScope === 'all') {
    if (!definition.merge)
      throw new Error(`projection ${definition.name} gathers partitions but has no merge`);
    return definition.merge(parts);
  }
  return parts[0] ?? null;
}

/** JSON with sorted keys and without undefined members: two documents are equal when these are. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

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
