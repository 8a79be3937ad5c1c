import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditLimit } from '../../src/projection-ops/audit';
import { ProjectionOpsError } from '../../src/projection-ops/errors';

describe('audit limit', () => {
  test('50 by default; 1 to 10000 accepted', () => {
    assert.equal(auditLimit(undefined), 50);
    assert.equal(auditLimit(1), 1);
    assert.equal(auditLimit(10_000), 10_000);
  });

  test('anything else is INVALID_ARGUMENT (400)', () => {
    for (const bad of [0, -1, 10_001, 2.5, Number.NaN]) {
      assert.throws(
        () => auditLimit(bad),
        (error: unknown) =>
          error instanceof ProjectionOpsError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.status === 400 &&
          error.message === `limit must be between 1 and 10000 (got ${bad})`,
      );
    }
  });
});
