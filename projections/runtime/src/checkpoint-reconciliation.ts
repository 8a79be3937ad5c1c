/**
 * Checkpoint reconciliation: what a projector does with a batch kafkajs fetched, given the sink's checkpoint
 * (the next offset to apply: the authority on positions) and what it knows of kafkajs's fetch position. Pure:
 * no I/O, no clock, so every case is unit-tested.
 *
 * A batch is applied only when it contains the checkpoint (it was fetched from at or before it and reaches it),
 * from its first record at or past the checkpoint. A batch fetched from past the checkpoint is a benign gap
 * only while kafkajs's position is known to follow ours (we applied or sought in this generation, and no seek is
 * outstanding): then the skipped offsets were control records (transaction markers) or aborted data that kafkajs
 * resolved by itself. Any other batch (a fresh group on an old sink, a reset sink, a batch fetched before a seek
 * took effect) is dropped and the consumer sought to the checkpoint, so a kafkajs seek race can only cost a
 * refetch, never skip or repeat an event.
 */

/** The batch as kafkajs fetched it. */
export interface FetchedBatch {
  /** The offset kafkajs fetched from (it skips records below it in the fetched record batches). */
  fetchedOffset: number;
  /** kafkajs's `batch.lastOffset()`: the last offset fetched, control records included. */
  lastOffset: number;
  /** The batch's records, in offset order (control records and aborted data filtered out). */
  messages: readonly { readonly offset: string }[];
  /** kafkajs still holds a seek of this partition that no fetch has used yet (`isStale()`): a stale batch. */
  seekPending: boolean;
}

/** What the projector knows of the partition's position. */
export interface CheckpointPosition {
  /** The sink's checkpoint: the next offset to apply. */
  checkpoint: number;
  /** kafkajs's fetch position is known to follow ours (we applied or sought in this generation). */
  continuous: boolean;
  /** A seek we asked for and have not seen a batch from yet. */
  sought: number | null;
}

export type CheckpointDecision =
  /** Drop the batch: it does not contain the checkpoint. Seek the consumer to `offset` (the checkpoint). */
  | { kind: 'seek'; offset: number }
  /** Drop the batch: a seek to the checkpoint is asked for and kafkajs has not fetched from it yet. */
  | { kind: 'await-seek' }
  /** Apply `messages[fromIndex..]` (the earlier ones are applied already); the batch brings the sink to `to`. */
  | { kind: 'apply'; fromIndex: number; to: number }
  /** Nothing to apply past the checkpoint, but the batch's control records move it to `to`. */
  | { kind: 'advance-only'; to: number }
  /** Everything in the batch is applied already. */
  | { kind: 'up-to-date' };

/** The decision, with the position's `continuous` and `sought` to keep after it. */
export type Reconciliation = CheckpointDecision & Pick<CheckpointPosition, 'continuous' | 'sought'>;

export function reconcileCheckpoint(batch: FetchedBatch, position: CheckpointPosition): Reconciliation {
  const { fetchedOffset, lastOffset, messages } = batch;
  const { checkpoint } = position;
  // A batch fetched from the offset we sought is the seek's first: it took effect.
  const sought = position.sought !== null && fetchedOffset === position.sought ? null : position.sought;
  const containsCheckpoint = fetchedOffset <= checkpoint && checkpoint <= lastOffset + 1;
  const benignGap = fetchedOffset > checkpoint && position.continuous && sought === null;
  if (!containsCheckpoint && !benignGap) {
    // Asked for already and still pending: the batch was fetched before the seek took effect.
    if (sought === checkpoint && batch.seekPending) {
      return { kind: 'await-seek', continuous: position.continuous, sought };
    }
    return { kind: 'seek', offset: checkpoint, continuous: true, sought: checkpoint };
  }
  let fromIndex = 0;
  while (fromIndex < messages.length && Number(messages[fromIndex]?.offset) < checkpoint) fromIndex++;
  if (fromIndex < messages.length) {
    return { kind: 'apply', fromIndex, to: lastOffset + 1, continuous: true, sought };
  }
  // Nothing to apply (control records only past the checkpoint): still move the checkpoint.
  if (lastOffset + 1 > checkpoint)
    return { kind: 'advance-only', to: lastOffset + 1, continuous: true, sought };
  return { kind: 'up-to-date', continuous: true, sought };
}
