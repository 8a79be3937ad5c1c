/**
 * `tidemark diff`: the I/O half of comparing two versions (which keys, loaded when, reloaded while moving);
 * diff-core decides what each pair of lookups means.
 */
import { GENESIS_EVENT_TYPE } from '@tidemark/kafka';
import type { ProjectionDefinition, Sink } from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import type { DiffResult, DiffSide, PairOutcome } from './diff-core';
import { comparePair, DiffTally } from './diff-core';
import { badRequest, conflict } from './errors';
import type { OpsContext } from './ops-context';

export interface DiffOptions {
  projection: string;
  a: number;
  b: number;
  /** Differing keys listed in the result (default 10). */
  sample?: number;
}

/** Keys loaded per request of each version. */
const DIFF_CHUNK = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Compares two versions at a common watermark W (per partition the lower checkpoint). The keys compared are
 * those the log below W touches (read from the log: not every store can list its keys); a key is compared
 * only where both versions show it at the same log position, and reloaded a few times when one moved on.
 */
export async function diffVersions(ops: OpsContext, options: DiffOptions): Promise<DiffResult> {
  const { projection, a, b } = options;
  const sampleSize = options.sample ?? 10;
  if (!Number.isInteger(sampleSize) || sampleSize < 0) {
    throw badRequest('INVALID_ARGUMENT', `sample must be a whole number >= 0 (got ${sampleSize})`);
  }
  const rows = await ops.rowsOf(projection);
  const defA = ops.definitionOf(projection, a, rows);
  const defB = ops.definitionOf(projection, b, rows);
  for (const version of [a, b]) {
    const row = rows.find((r) => r.version === version);
    if (row?.droppedAt) {
      throw conflict('VERSION_DROPPED', `version ${version} of ${projection} was dropped`, {
        projection,
        version,
      });
    }
  }
  const sinkA = ops.sinkOf(defA);
  const sinkB = ops.sinkOf(defB);
  const [startA, startB] = await Promise.all([ops.checkpointsOf(sinkA), ops.checkpointsOf(sinkB)]);
  const watermark = startA.map((checkpoint, p) => Math.min(checkpoint, startB[p] ?? 0));
  const tally = new DiffTally(sampleSize);
  for (let partition = 0; partition < ops.partitions; partition++) {
    const until = watermark[partition] ?? 0;
    if (until === 0) continue;
    const keys = [...(await keysBelow(ops, partition, until, [defA, defB]))].sort();
    for (let i = 0; i < keys.length; i += DIFF_CHUNK) {
      await diffChunk(ops, partition, keys.slice(i, i + DIFF_CHUNK), sinkA, sinkB, tally);
    }
  }
  return {
    context: ops.context,
    projection,
    a,
    b,
    watermark: Object.fromEntries(watermark.map((w, p) => [String(p), w])),
    counts: tally.counts,
    compared: tally.compared,
    equal: tally.equal,
    differing: tally.differing,
    onlyInA: tally.onlyInA,
    onlyInB: tally.onlyInB,
    unknown: tally.unknown,
    moving: tally.moving,
    sample: tally.sample,
  };
}

async function diffChunk(
  ops: OpsContext,
  partition: number,
  keys: string[],
  sinkA: Sink,
  sinkB: Sink,
  tally: DiffTally,
): Promise<void> {
  const retries = ops.options.diffRetries ?? 5;
  let pending = keys;
  for (let attempt = 0; pending.length > 0; attempt++) {
    // The checkpoints before the loads bound the positions each lookup stands for (diff-core positionRange).
    const [cpA, cpB] = await Promise.all([sinkA.checkpoints(), sinkB.checkpoints()]);
    const [loadedA, loadedB] = await Promise.all([
      sinkA.load(partition, pending),
      sinkB.load(partition, pending),
    ]);
    const moving: string[] = [];
    const last = attempt >= retries;
    for (const key of pending) {
      const sideA: DiffSide = { lookup: loadedA.get(key), checkpoint: cpA.get(partition) ?? 0 };
      const sideB: DiffSide = { lookup: loadedB.get(key), checkpoint: cpB.get(partition) ?? 0 };
      const outcome: PairOutcome = comparePair(sideA, sideB);
      if (outcome.kind === 'moving' && !last) moving.push(key);
      else tally.add(partition, key, sideA, sideB, outcome);
    }
    pending = moving;
    if (pending.length > 0) await sleep(ops.options.diffRetryDelayMs ?? 200);
  }
}

/** The keys the events of `partition` below `until` touch, under any of the definitions. */
async function keysBelow(
  ops: OpsContext,
  partition: number,
  until: number,
  definitions: ProjectionDefinition[],
): Promise<Set<string>> {
  const keys = new Set<string>();
  const types = new Set(definitions.flatMap((d) => d.eventTypes));
  await ops.reader.read(ops.topic, partition, 0, until, (records) => {
    for (const record of records) {
      const type = record.headers.type;
      if (type === GENESIS_EVENT_TYPE || (type !== undefined && !types.has(type)) || !record.value) continue;
      let event: EventEnvelope;
      try {
        event = JSON.parse(record.value.toString('utf8')) as EventEnvelope;
        if (!types.has(event.type)) continue;
        if (ops.events.has(event.type)) {
          event.payload = ops.events.read(event.type, event.schemaVersion, event.payload);
          event.schemaVersion = ops.events.latestVersion(event.type);
        }
      } catch {
        continue; // a poison record: the projectors dead-letter or halt on it; it names no key here
      }
      for (const definition of definitions) {
        if (!definition.eventTypes.includes(event.type)) continue;
        try {
          for (const key of definition.keys(event)) keys.add(key);
        } catch {
          // As above.
        }
      }
    }
  });
  return keys;
}
