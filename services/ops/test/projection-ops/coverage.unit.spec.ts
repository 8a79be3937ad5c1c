import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareCoverage, covers } from '../../src/projection-ops/coverage';

const checkpoints = (entries: [number, number][]) => new Map(entries);

describe('cutover coverage', () => {
  test('covers: at least the active checkpoint on every partition the active version wrote', () => {
    const active = checkpoints([
      [0, 10],
      [2, 4],
    ]);
    assert.equal(
      covers(
        active,
        checkpoints([
          [0, 10],
          [2, 4],
        ]),
      ),
      true,
    );
    assert.equal(
      covers(
        active,
        checkpoints([
          [0, 12],
          [1, 3],
          [2, 9],
        ]),
      ),
      true,
    );
    assert.equal(
      covers(
        active,
        checkpoints([
          [0, 10],
          [2, 3],
        ]),
      ),
      false,
    );
    // A partition the target never wrote counts as 0.
    assert.equal(covers(active, checkpoints([[0, 10]])), false);
    // Nothing written by the active version: anything covers it.
    assert.equal(covers(new Map(), new Map()), true);
    assert.equal(covers(checkpoints([[1, 0]]), new Map()), true);
  });

  test('compareCoverage: every partition of the context in order, the lagging ones, the audit watermarks', () => {
    const result = compareCoverage(
      checkpoints([
        [1, 7],
        [0, 5],
      ]),
      checkpoints([
        [0, 6],
        [1, 2],
      ]),
      3,
    );
    assert.deepEqual(result.entries, [
      { partition: 0, active: 5, target: 6 },
      { partition: 1, active: 7, target: 2 },
      { partition: 2, active: 0, target: 0 },
    ]);
    assert.deepEqual(result.lagging, [{ partition: 1, active: 7, target: 2 }]);
    assert.deepEqual(result.watermarks, {
      from: { '0': 5, '1': 7, '2': 0 },
      to: { '0': 6, '1': 2, '2': 0 },
    });
  });

  test('compareCoverage: a checkpoint beyond the partition count is still compared', () => {
    const result = compareCoverage(checkpoints([[4, 3]]), new Map(), 2);
    assert.deepEqual(
      result.entries.map((e) => e.partition),
      [0, 1, 4],
    );
    assert.deepEqual(result.lagging, [{ partition: 4, active: 3, target: 0 }]);
  });
});
