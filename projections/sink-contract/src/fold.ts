/**
 * A minimal reference projector that drives a sink the way the runtime does, and the assertion that a sink
 * holds the reference fold of a log (invariant 2: a view at watermark W equals the fold of its projection over
 * the log below W; the fold itself is the SDK's, @tidemark/sdk/testing).
 */
import assert from 'node:assert/strict';
import type {
  DocumentWrite,
  Lookup,
  ProjectionDefinition,
  ProjectionDocument,
  Sink,
} from '@tidemark/projection-runtime';
import type { FoldedDocument, FoldResult } from '@tidemark/sdk/testing';
import { keysOf, referenceFold } from '@tidemark/sdk/testing';
import type { LogEvent } from './fixtures';

/** The fold of one key of one partition over the log events below `before` (what a cache falls back to). */
function foldKey<D extends ProjectionDocument>(
  definition: ProjectionDefinition<D>,
  log: readonly LogEvent[],
  partition: number,
  key: string,
  before: number,
): FoldedDocument<D> {
  const relevant = log.filter(
    (e) => e.partition === partition && e.offset < before && keysOf(definition, e.event).includes(key),
  );
  return referenceFold(definition, relevant).get(partition)?.get(key) ?? { doc: null, position: 0 };
}

/**
 * What the projector writes for one batch of one partition: load the touched keys, apply each event to every
 * key it touches unless the stored position already covers it, write the changed documents. A key the
 * store answers 'unknown' for is rebuilt from the log below the batch (`log`), as a cache-backed projector
 * falls back to a view that knows.
 */
export async function computeBatchWrites<D extends ProjectionDocument>(
  sink: Sink<D>,
  definition: ProjectionDefinition<D>,
  partition: number,
  batch: readonly LogEvent[],
  log: readonly LogEvent[] = [],
): Promise<DocumentWrite<D>[]> {
  const keys = new Set<string>();
  for (const e of batch) for (const key of keysOf(definition, e.event)) keys.add(key);
  if (keys.size === 0) return [];
  const loaded = await sink.load(partition, [...keys]);
  const batchStart = batch[0]?.offset ?? 0;
  const state = new Map<string, FoldedDocument<D>>();
  for (const key of keys) {
    const lookup: Lookup<D> | undefined = loaded.get(key);
    assert.ok(lookup !== undefined, `load must answer for every requested key (missing ${key})`);
    if (lookup === 'absent') state.set(key, { doc: null, position: 0 });
    else if (lookup === 'unknown') state.set(key, foldKey(definition, log, partition, key, batchStart));
    else state.set(key, { doc: lookup.doc, position: lookup.position });
  }
  const changed = new Set<string>();
  for (const { offset, event } of batch) {
    for (const key of keysOf(definition, event)) {
      const current = state.get(key) as FoldedDocument<D>;
      if (offset < current.position) continue; // already applied (a replay after a crash)
      state.set(key, { doc: definition.apply(current.doc, event, key), position: offset + 1 });
      changed.add(key);
    }
  }
  return [...changed].map((key) => {
    const s = state.get(key) as FoldedDocument<D>;
    return { key, doc: s.doc, position: s.position };
  });
}

/** Applies one batch of one partition and moves its checkpoint past the batch. */
export async function applyBatch<D extends ProjectionDocument>(
  sink: Sink<D>,
  definition: ProjectionDefinition<D>,
  partition: number,
  batch: readonly LogEvent[],
  log: readonly LogEvent[] = [],
): Promise<void> {
  const last = batch[batch.length - 1];
  if (!last) return;
  const writes = await computeBatchWrites(sink, definition, partition, batch, log);
  await sink.commit(partition, writes, last.offset + 1);
}

export interface ReplayOptions {
  batchSize?: number;
  /** partition -> offset to resume from (default: the sink's checkpoints; 0 for a partition without one). */
  from?: Map<number, number>;
  /** Stop each partition before this offset (default: its end). */
  until?: Map<number, number>;
}

/** The reference projector: runs every partition of `log` through the sink in batches, from its checkpoint. */
export async function replay<D extends ProjectionDocument>(
  sink: Sink<D>,
  definition: ProjectionDefinition<D>,
  log: readonly LogEvent[],
  options: ReplayOptions = {},
): Promise<void> {
  const batchSize = options.batchSize ?? 100;
  const from = options.from ?? (await sink.checkpoints());
  for (const [partition, events] of byPartition(log)) {
    const start = from.get(partition) ?? 0;
    const end = options.until?.get(partition) ?? Number.POSITIVE_INFINITY;
    const pending = events.filter((e) => e.offset >= start && e.offset < end);
    for (let i = 0; i < pending.length; i += batchSize) {
      await applyBatch(sink, definition, partition, pending.slice(i, i + batchSize), log);
    }
  }
}

/** The log's events per partition, in offset order. */
export function byPartition(log: readonly LogEvent[]): Map<number, LogEvent[]> {
  const result = new Map<number, LogEvent[]>();
  for (const e of log) {
    const list = result.get(e.partition) ?? [];
    list.push(e);
    result.set(e.partition, list);
  }
  for (const list of result.values()) list.sort((a, b) => a.offset - b.offset);
  return new Map([...result].sort((a, b) => a[0] - b[0]));
}

/** The offset past the last event of each partition: the checkpoints a fully caught-up view has. */
export function endOffsets(log: readonly LogEvent[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const e of log) result.set(e.partition, Math.max(result.get(e.partition) ?? 0, e.offset + 1));
  return result;
}

export interface MatchOptions {
  /** Accept 'unknown' for a key (a cache that may forget). Default false. */
  allowUnknown?: boolean;
  /** Keys per load call (default 500). */
  chunk?: number;
}

/**
 * Asserts the sink holds exactly the fold: every folded document with its position; a fold ending in null
 * may be stored as a tombstone (same position) or be absent.
 */
export async function assertSinkMatchesFold<D extends ProjectionDocument>(
  sink: Sink<D>,
  fold: FoldResult<D>,
  options: MatchOptions = {},
): Promise<void> {
  const chunk = options.chunk ?? 500;
  for (const [partition, docs] of fold) {
    const keys = [...docs.keys()];
    for (let i = 0; i < keys.length; i += chunk) {
      const part = keys.slice(i, i + chunk);
      const loaded = await sink.load(partition, part);
      for (const key of part) {
        const expected = docs.get(key) as FoldedDocument<D>;
        const actual = loaded.get(key);
        const where = `partition ${partition}, key ${JSON.stringify(key)}`;
        if (actual === 'unknown' && options.allowUnknown) continue;
        if (expected.doc === null) {
          if (actual === 'absent') continue;
          assert.ok(
            actual !== undefined && actual !== 'unknown',
            `${where}: expected no document, got ${actual}`,
          );
          assert.equal(actual.doc, null, `${where}: expected a tombstone`);
          assert.equal(actual.position, expected.position, `${where}: tombstone position`);
          continue;
        }
        assert.ok(
          actual !== undefined && actual !== 'absent' && actual !== 'unknown',
          `${where}: expected a document, got ${String(actual)}`,
        );
        assert.deepEqual(actual.doc, expected.doc, `${where}: document`);
        assert.equal(actual.position, expected.position, `${where}: position`);
        assert.equal(actual.key, key, `${where}: key`);
        assert.equal(actual.partition, partition, `${where}: partition`);
      }
    }
  }
}
