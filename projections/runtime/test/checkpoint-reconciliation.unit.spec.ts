import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckpointPosition, FetchedBatch } from '../src/checkpoint-reconciliation';
import { reconcileCheckpoint } from '../src/checkpoint-reconciliation';

/** A batch as kafkajs hands it over: `offsets` are its records (control records and aborted data left out). */
function batch(
  fetchedOffset: number,
  lastOffset: number,
  offsets: number[],
  seekPending = false,
): FetchedBatch {
  return { fetchedOffset, lastOffset, messages: offsets.map((o) => ({ offset: String(o) })), seekPending };
}

function position(checkpoint: number, continuous: boolean, sought: number | null = null): CheckpointPosition {
  return { checkpoint, continuous, sought };
}

describe('reconcileCheckpoint', () => {
  describe('a batch that contains the checkpoint is applied from it', () => {
    test('fetched from the checkpoint: every record', () => {
      assert.deepEqual(reconcileCheckpoint(batch(10, 12, [10, 11, 12]), position(10, true)), {
        kind: 'apply',
        fromIndex: 0,
        to: 13,
        continuous: true,
        sought: null,
      });
    });

    test('fetched before the checkpoint (a refetch after a pipelined commit): the records past it only', () => {
      assert.deepEqual(reconcileCheckpoint(batch(10, 14, [10, 11, 12, 13, 14]), position(12, true)), {
        kind: 'apply',
        fromIndex: 2,
        to: 15,
        continuous: true,
        sought: null,
      });
    });

    test('the first batch of a generation makes the position continuous', () => {
      const decision = reconcileCheckpoint(batch(0, 2, [0, 1, 2]), position(0, false));
      assert.equal(decision.kind, 'apply');
      assert.equal(decision.continuous, true);
    });

    test('a checkpoint on a commit marker (offsets skipped inside the batch) applies from the next record', () => {
      // 3 is a transaction marker: kafkajs leaves it out of the messages.
      assert.deepEqual(reconcileCheckpoint(batch(0, 5, [0, 1, 2, 4, 5]), position(3, true)), {
        kind: 'apply',
        fromIndex: 3,
        to: 6,
        continuous: true,
        sought: null,
      });
    });

    test('a fresh group on an old sink whose first fetch reaches the checkpoint applies from it', () => {
      // fromBeginning: kafkajs fetches from 0 while the sink is at 3.
      assert.deepEqual(reconcileCheckpoint(batch(0, 5, [0, 1, 2, 3, 4, 5]), position(3, false)), {
        kind: 'apply',
        fromIndex: 3,
        to: 6,
        continuous: true,
        sought: null,
      });
    });
  });

  describe('the benign gap: fetched past the checkpoint while kafkajs follows our position', () => {
    test('control records or aborted data kafkajs skipped by itself: applied from the first record', () => {
      // Checkpoint 10; 10 was a commit marker, so kafkajs fetched from 11.
      assert.deepEqual(reconcileCheckpoint(batch(11, 13, [11, 12, 13]), position(10, true)), {
        kind: 'apply',
        fromIndex: 0,
        to: 14,
        continuous: true,
        sought: null,
      });
    });

    test('a gap of control records only: the checkpoint moves past them', () => {
      assert.deepEqual(reconcileCheckpoint(batch(11, 12, []), position(10, true)), {
        kind: 'advance-only',
        to: 13,
        continuous: true,
        sought: null,
      });
    });

    test('not while the position is not continuous (a new generation: the gap may be a skipped event)', () => {
      assert.deepEqual(reconcileCheckpoint(batch(11, 13, [11, 12, 13]), position(10, false)), {
        kind: 'seek',
        offset: 10,
        continuous: true,
        sought: 10,
      });
    });

    test('not while a seek is outstanding (the batch may come from the position before the seek)', () => {
      assert.deepEqual(reconcileCheckpoint(batch(11, 13, [11, 12, 13]), position(10, true, 10)), {
        kind: 'seek',
        offset: 10,
        continuous: true,
        sought: 10,
      });
    });
  });

  describe('a batch that does not contain the checkpoint is dropped and the consumer sought', () => {
    test('a fresh group on an old sink: fetched from the beginning, far below the checkpoint', () => {
      assert.deepEqual(reconcileCheckpoint(batch(0, 99, [0, 1, 99]), position(500, false)), {
        kind: 'seek',
        offset: 500,
        continuous: true,
        sought: 500,
      });
    });

    test('a reset sink: the committed offset hint is past the sink checkpoint', () => {
      assert.deepEqual(reconcileCheckpoint(batch(900, 950, [900, 950]), position(0, false)), {
        kind: 'seek',
        offset: 0,
        continuous: true,
        sought: 0,
      });
    });

    test('a batch fetched before the seek took effect, the seek still pending in kafkajs: dropped, no new seek', () => {
      assert.deepEqual(reconcileCheckpoint(batch(0, 99, [0, 99], true), position(500, true, 500)), {
        kind: 'await-seek',
        continuous: true,
        sought: 500,
      });
    });

    test('the same batch once kafkajs no longer holds the seek: sought again', () => {
      assert.deepEqual(reconcileCheckpoint(batch(0, 99, [0, 99], false), position(500, true, 500)), {
        kind: 'seek',
        offset: 500,
        continuous: true,
        sought: 500,
      });
    });

    test('a seek to an older checkpoint pending: sought to the current one', () => {
      assert.deepEqual(reconcileCheckpoint(batch(0, 99, [0, 99], true), position(500, true, 300)), {
        kind: 'seek',
        offset: 500,
        continuous: true,
        sought: 500,
      });
    });

    test('a batch below the checkpoint (already applied) from a position kafkajs moved back to', () => {
      assert.deepEqual(reconcileCheckpoint(batch(5, 8, [5, 6, 7, 8]), position(20, true)), {
        kind: 'seek',
        offset: 20,
        continuous: true,
        sought: 20,
      });
    });
  });

  describe('the first batch from the offset sought', () => {
    test('clears the seek and is applied', () => {
      assert.deepEqual(
        reconcileCheckpoint(batch(500, 502, [500, 501, 502], false), position(500, true, 500)),
        {
          kind: 'apply',
          fromIndex: 0,
          to: 503,
          continuous: true,
          sought: null,
        },
      );
    });

    test('from an older seek while the checkpoint moved on: cleared, then sought to the checkpoint', () => {
      assert.deepEqual(reconcileCheckpoint(batch(300, 310, [300, 310]), position(500, true, 300)), {
        kind: 'seek',
        offset: 500,
        continuous: true,
        sought: 500,
      });
    });
  });

  describe('nothing to apply', () => {
    test('records below the checkpoint, control records past it: the checkpoint moves past them', () => {
      // 10 and 11 applied; 12 is a commit marker (lastOffset counts it, the messages do not).
      assert.deepEqual(reconcileCheckpoint(batch(10, 12, [10, 11]), position(12, true)), {
        kind: 'advance-only',
        to: 13,
        continuous: true,
        sought: null,
      });
    });

    test('every record already applied: up to date', () => {
      assert.deepEqual(reconcileCheckpoint(batch(10, 11, [10, 11]), position(12, false)), {
        kind: 'up-to-date',
        continuous: true,
        sought: null,
      });
    });

    test('an empty batch at the checkpoint (the log ends there): up to date', () => {
      // kafkajs: an empty fetch has lastOffset = highWatermark - 1.
      assert.deepEqual(reconcileCheckpoint(batch(12, 11, []), position(12, true)), {
        kind: 'up-to-date',
        continuous: true,
        sought: null,
      });
    });
  });
});
