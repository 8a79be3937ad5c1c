/**
 * The pure part of a projector: folding one partition's batch of events onto the documents the sink holds, and
 * re-applying parked (dead-lettered) events after a fix. No I/O here, so every rule of idempotence, ordering and
 * failure handling is unit-testable.
 */
import type { EventEnvelope } from '@tidemark/schemas';
import type { DocumentWrite, Lookup, ProjectionDefinition, ProjectionDocument } from './contracts';

/** One record of the batch: a decoded event, or the reason it could not be decoded (a poison record). */
export type FoldRecord =
  | { offset: number; type: string; event: EventEnvelope; error?: undefined }
  | { offset: number; type: string; event?: undefined; error: Error };

/** An event (or the part of it concerning `keys`) set aside by the dead-letter policy. */
export interface DeadLetterDecision {
  offset: number;
  type: string;
  /** Keys parked by this record (empty when its keys could not be computed). */
  keys: string[];
  error: string;
  /** Set when the event did not fail itself but its key waits behind an earlier parked event. */
  parkedBehind?: number;
}

export interface FoldHalt {
  offset: number;
  type: string;
  error: Error;
}

export interface FoldResult<D extends ProjectionDocument = ProjectionDocument> {
  writes: DocumentWrite<D>[];
  deadLetters: DeadLetterDecision[];
  /** Keys parked during this batch -> offset of their first parked event (merge into the parked set). */
  newlyParked: Map<string, number>;
  /** `stop` policy: the first poison event; nothing at or after it is in `writes`. */
  halt: FoldHalt | null;
  /** Events whose every key was applied (or already applied). */
  applied: number;
  /** (event, key) applications skipped because the stored document is already past the event. */
  skipped: number;
}

interface KeyState<D> {
  doc: D | null;
  /** Offset just past the last event in doc; -1 for unknown (folded from null, nothing stored). */
  position: number;
  unknown: boolean;
  dirty: boolean;
}

function initialState<D extends ProjectionDocument>(lookup: Lookup<D> | undefined): KeyState<D> {
  if (lookup === undefined || lookup === 'absent')
    return { doc: null, position: 0, unknown: false, dirty: false };
  if (lookup === 'unknown') return { doc: null, position: -1, unknown: true, dirty: false };
  return { doc: lookup.doc, position: lookup.position, unknown: false, dirty: false };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function writesOf<D extends ProjectionDocument>(states: Map<string, KeyState<D>>): DocumentWrite<D>[] {
  const writes: DocumentWrite<D>[] = [];
  for (const [key, state] of states) {
    if (!state.dirty) continue;
    // A key the store lost (unknown) whose fold from null is still null stays unknown: a tombstone would
    // claim "absent", which the log does not say.
    if (state.unknown && state.doc === null) continue;
    writes.push({ key, doc: state.doc, position: state.position });
  }
  return writes;
}

/**
 * Folds a partition's records (in offset order) onto the loaded documents.
 * - An (event, key) whose stored position is past the event is skipped (replays and overlapping batches).
 * - `stop`: the first event whose keys() or apply() throws halts the fold; writes only cover earlier events.
 * - `dead-letter`: a failing (event, key) is parked; later events of a parked key are parked behind it, so a
 *   replay after a fix can apply them in order. Other keys of the same event go on normally.
 */
export function foldBatch<D extends ProjectionDocument>(
  definition: Pick<ProjectionDefinition<D>, 'keys' | 'apply' | 'failurePolicy'>,
  records: readonly FoldRecord[],
  loaded: ReadonlyMap<string, Lookup<D>>,
  parked: ReadonlyMap<string, number> = new Map(),
): FoldResult<D> {
  const states = new Map<string, KeyState<D>>();
  const deadLetters: DeadLetterDecision[] = [];
  const newlyParked = new Map<string, number>();
  let applied = 0;
  let skipped = 0;
  const stop = definition.failurePolicy === 'stop';
  const parkedAt = (key: string): number | undefined => newlyParked.get(key) ?? parked.get(key);
  const stateOf = (key: string): KeyState<D> => {
    let state = states.get(key);
    if (!state) {
      state = initialState(loaded.get(key));
      states.set(key, state);
    }
    return state;
  };

  for (const record of records) {
    const { offset, type } = record;
    let keys: string[];
    try {
      if (record.error) throw record.error;
      keys = definition.keys(record.event);
    } catch (error) {
      if (stop)
        return {
          writes: writesOf(states),
          deadLetters,
          newlyParked,
          halt: { offset, type, error: toError(error) },
          applied,
          skipped,
        };
      deadLetters.push({ offset, type, keys: [], error: message(error) });
      continue;
    }
    const event = record.event as EventEnvelope;
    // Compute every key's next document first so that, under `stop`, a failing event changes nothing.
    const next: { key: string; state: KeyState<D>; doc: D | null }[] = [];
    const failed: string[] = [];
    const behind: { key: string; at: number }[] = [];
    let firstError: unknown = null;
    for (const key of keys) {
      const at = parkedAt(key);
      if (at !== undefined) {
        behind.push({ key, at });
        continue;
      }
      const state = stateOf(key);
      if (state.position > offset) {
        skipped++;
        continue;
      }
      try {
        next.push({ key, state, doc: definition.apply(state.doc, event, key) });
      } catch (error) {
        if (stop) {
          return {
            writes: writesOf(states),
            deadLetters,
            newlyParked,
            halt: { offset, type, error: toError(error) },
            applied,
            skipped,
          };
        }
        firstError ??= error;
        failed.push(key);
      }
    }
    for (const { state, doc } of next) {
      state.doc = doc;
      state.position = offset + 1;
      state.dirty = true;
    }
    if (failed.length > 0) {
      for (const key of failed) newlyParked.set(key, offset);
      deadLetters.push({ offset, type, keys: failed, error: message(firstError) });
    }
    if (behind.length > 0) {
      // One record per blocking offset keeps "parked behind X" exact for each key.
      const byAt = new Map<number, string[]>();
      for (const { key, at } of behind) byAt.set(at, [...(byAt.get(at) ?? []), key]);
      for (const [at, parkedKeys] of byAt) {
        deadLetters.push({
          offset,
          type,
          keys: parkedKeys,
          error: `parked behind offset ${at}`,
          parkedBehind: at,
        });
      }
    }
    if (failed.length === 0 && behind.length === 0) applied++;
  }
  return { writes: writesOf(states), deadLetters, newlyParked, halt: null, applied, skipped };
}

/** A parked (event, key) waiting for a replay. */
export interface ParkedEvent {
  offset: number;
  key: string;
  /** The decoded event, or why it cannot be decoded (then it stays parked). */
  event: EventEnvelope | Error;
}

export interface ReplayResult<D extends ProjectionDocument = ProjectionDocument> {
  writes: DocumentWrite<D>[];
  /** (offset, key) pairs now applied: unpark them. */
  replayed: { offset: number; key: string }[];
  /** The first failure of each key that is still parked (it and the key's later events stay parked). */
  failed: { offset: number; key: string; error: string }[];
}

/**
 * Re-applies each key's parked events in offset order onto its stored document (with the fixed projection
 * code). A key whose event fails again keeps that event and the later ones parked; what came before is applied.
 */
export function replayParked<D extends ProjectionDocument>(
  definition: Pick<ProjectionDefinition<D>, 'apply'>,
  parked: readonly ParkedEvent[],
  loaded: ReadonlyMap<string, Lookup<D>>,
): ReplayResult<D> {
  const byKey = new Map<string, ParkedEvent[]>();
  for (const entry of parked) byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), entry]);
  const states = new Map<string, KeyState<D>>();
  const replayed: { offset: number; key: string }[] = [];
  const failed: { offset: number; key: string; error: string }[] = [];
  for (const [key, entries] of byKey) {
    entries.sort((a, b) => a.offset - b.offset);
    const state = initialState(loaded.get(key));
    states.set(key, state);
    for (const entry of entries) {
      if (state.position > entry.offset) {
        // Already applied (a replay whose "replayed" marker was lost): just unpark.
        replayed.push({ offset: entry.offset, key });
        continue;
      }
      try {
        if (entry.event instanceof Error) throw entry.event;
        state.doc = definition.apply(state.doc, entry.event, key);
      } catch (error) {
        failed.push({ offset: entry.offset, key, error: message(error) });
        break;
      }
      state.position = entry.offset + 1;
      state.dirty = true;
      replayed.push({ offset: entry.offset, key });
    }
  }
  return { writes: writesOf(states), replayed, failed };
}
