import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROJECTOR_GLIBC_TUNABLES, PROJECTOR_NODE_FLAGS, projectorEnv } from '../../src/service-child';

describe('projector process settings', () => {
  test('the young generation is fixed at 64 MB (the same minimum and maximum)', () => {
    assert.ok(PROJECTOR_NODE_FLAGS.includes('--max-semi-space-size=64'));
    assert.ok(PROJECTOR_NODE_FLAGS.includes('--min-semi-space-size=64'));
  });

  test('the environment gains the malloc settings and keeps every other variable', () => {
    const env = projectorEnv({ PATH: '/usr/bin', TIDEMARK_LOG_LEVEL: 'debug' });
    assert.deepEqual(env, {
      PATH: '/usr/bin',
      TIDEMARK_LOG_LEVEL: 'debug',
      GLIBC_TUNABLES: PROJECTOR_GLIBC_TUNABLES,
    });
    for (const tunable of PROJECTOR_GLIBC_TUNABLES.split(':'))
      assert.match(tunable, /^glibc\.malloc\.[a-z_]+=\d+$/);
  });

  test("an operator's own GLIBC_TUNABLES wins, and the base environment is not changed", () => {
    const base = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
    const env = projectorEnv(base);
    assert.equal(env.GLIBC_TUNABLES, 'glibc.malloc.arena_max=2');
    assert.notEqual(env, base);
    const plain: NodeJS.ProcessEnv = {};
    projectorEnv(plain);
    assert.deepEqual(plain, {});
  });
});
