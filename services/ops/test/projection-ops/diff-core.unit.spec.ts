import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Lookup } from '@tidemark/projection-runtime';
import type { DiffSide } from '../../src/projection-ops/diff-core';
import { comparePair, DiffTally, fieldDifferences, positionRange } from '../../src/projection-ops/diff-core';

const doc = (position: number, value: Record<string, unknown> | null, key = 'k'): Lookup => ({
  key,
  partition: 0,
  doc: value,
  position,
});
const side = (lookup: Lookup | undefined, checkpoint: number): DiffSide => ({ lookup, checkpoint });

describe('fieldDifferences', () => {
  test('equal documents have none, whatever the key order', () => {
    assert.deepEqual(fieldDifferences({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), []);
  });

  test('nested fields are named by dotted paths, array items by index', () => {
    assert.deepEqual(
      fieldDifferences(
        { priceCents: 100, location: { city: 'Utrecht', country: 'NL' }, tags: ['a', 'b'] },
        { priceCents: 10000, location: { city: 'Delft', country: 'NL' }, tags: ['a', 'c', 'd'] },
      ),
      [
        { path: 'location.city', a: 'Utrecht', b: 'Delft' },
        { path: 'priceCents', a: 100, b: 10000 },
        { path: 'tags[1]', a: 'b', b: 'c' },
        { path: 'tags[2]', b: 'd' },
      ],
    );
  });

  test('a field missing on one side (or undefined) is reported without that side', () => {
    assert.deepEqual(fieldDifferences({ a: 1, gone: undefined }, { a: 1, extra: 'x' }), [
      { path: 'extra', b: 'x' },
    ]);
    assert.deepEqual(fieldDifferences({ a: { b: 1 } }, { a: 2 }), [{ path: 'a', a: { b: 1 }, b: 2 }]);
  });

  test('whole values that differ in type are one difference at $', () => {
    assert.deepEqual(fieldDifferences([1], { 0: 1 }), [{ path: '$', a: [1], b: { 0: 1 } }]);
    assert.deepEqual(fieldDifferences(null, 0), [{ path: '$', a: null, b: 0 }]);
  });
});

describe('comparePair', () => {
  test('documents at the same position compare by content', () => {
    assert.deepEqual(comparePair(side(doc(5, { p: 1 }), 9), side(doc(5, { p: 1 }), 7)), { kind: 'equal' });
    assert.deepEqual(comparePair(side(doc(5, { p: 1 }), 9), side(doc(5, { p: 2 }), 7)), {
      kind: 'differ',
      differences: [{ path: 'p', a: 1, b: 2 }],
    });
  });

  test('positions may differ while both stand for a common log position (below both checkpoints)', () => {
    // A wrote the key at 3; B (another version's code) last wrote it at 4: both show it as of offset 6.
    assert.equal(comparePair(side(doc(3, { p: 1 }), 6), side(doc(4, { p: 1 }), 6)).kind, 'equal');
  });

  test("a version that moved the key past the other one's checkpoint is moving", () => {
    // B applied an event at offset 8 to the key; A's checkpoint (read before the load) is 7: A is behind.
    assert.deepEqual(comparePair(side(doc(5, { p: 1 }), 7), side(doc(9, { p: 2 }), 9)), { kind: 'moving' });
    // Absent in A while B has it at a position A has not reached yet: moving, not "only in B".
    assert.deepEqual(comparePair(side('absent', 7), side(doc(9, { p: 2 }), 9)), { kind: 'moving' });
  });

  test('a cache miss on either side is unknown', () => {
    assert.deepEqual(comparePair(side('unknown', 9), side(doc(5, { p: 1 }), 9)), { kind: 'unknown' });
    assert.deepEqual(comparePair(side(doc(5, { p: 1 }), 9), side('unknown', 9)), { kind: 'unknown' });
  });

  test('a document against a tombstone or nothing is only in one version; two absences are equal', () => {
    assert.equal(comparePair(side(doc(5, { p: 1 }), 9), side('absent', 9)).kind, 'onlyInA');
    assert.equal(comparePair(side(doc(5, null), 9), side(doc(5, { p: 1 }), 9)).kind, 'onlyInB');
    assert.equal(comparePair(side(doc(5, null), 9), side('absent', 9)).kind, 'equal');
    assert.equal(comparePair(side(undefined, 9), side('absent', 3)).kind, 'equal');
  });

  test('positionRange: a document stands for [position, max(position, checkpoint)], absence for [0, checkpoint]', () => {
    assert.deepEqual(positionRange(side(doc(5, { p: 1 }), 9)), { from: 5, to: 9 });
    assert.deepEqual(positionRange(side(doc(12, { p: 1 }), 9)), { from: 12, to: 12 });
    assert.deepEqual(positionRange(side('absent', 9)), { from: 0, to: 9 });
    assert.equal(positionRange(side('unknown', 9)), null);
  });
});

describe('DiffTally', () => {
  test('counts each outcome, documents present per side, and samples the first differing keys', () => {
    const tally = new DiffTally(2);
    const present = side(doc(1, { p: 1 }), 5);
    const other = side(doc(1, { p: 2 }), 5);
    tally.add(0, 'same', present, present, comparePair(present, present));
    tally.add(0, 'd1', present, other, comparePair(present, other));
    tally.add(1, 'd2', present, other, comparePair(present, other));
    tally.add(1, 'onlyA', present, side('absent', 5), comparePair(present, side('absent', 5)));
    tally.add(1, 'cache', side('unknown', 5), present, { kind: 'unknown' });
    tally.add(1, 'busy', present, other, { kind: 'moving' });
    assert.deepEqual(
      {
        counts: tally.counts,
        compared: tally.compared,
        equal: tally.equal,
        differing: tally.differing,
        onlyInA: tally.onlyInA,
        onlyInB: tally.onlyInB,
        unknown: tally.unknown,
        moving: tally.moving,
      },
      {
        counts: { a: 5, b: 5 },
        compared: 4,
        equal: 1,
        differing: 2,
        onlyInA: 1,
        onlyInB: 0,
        unknown: 1,
        moving: 1,
      },
    );
    assert.deepEqual(
      tally.sample.map((s) => [s.partition, s.key, s.kind]),
      [
        [0, 'd1', 'differ'],
        [1, 'd2', 'differ'],
      ],
    );
    assert.equal(tally.differs, true);
    const none = new DiffTally(10);
    none.add(0, 'x', side('unknown', 1), side('unknown', 1), { kind: 'unknown' });
    assert.equal(none.differs, false, 'unknown and moving keys are not differences');
  });
});
