import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, test } from 'node:test';
import {
  PROJECTOR_GLIBC_TUNABLES,
  projectorChildCommand,
  projectorEnv,
  serviceChildArgv,
} from '../../src/service-child';

/** The value of `--<name>=<value>` among `flags`, which must hold it exactly once. */
function flagValue(flags: readonly string[], name: string): string {
  const values = flags.filter((flag) => flag.startsWith(`--${name}=`)).map((flag) => flag.split('=')[1]);
  assert.equal(values.length, 1, `--${name} once among node's flags (${flags.join(' ')})`);
  return values[0] ?? '';
}

describe('projector process settings', () => {
  test('the projector child runs node with a fixed 64 MB young generation (the same minimum and maximum)', () => {
    const args = ['--brokers', '127.0.0.1:9092', '--projections', 'listing-card'];
    const command = projectorChildCommand(args, {});
    const argv = serviceChildArgv(command);
    // Node's flags go before the script: after it they would be the CLI's arguments, and node would not see them.
    const script = argv.findIndex((arg) => basename(arg) === 'tidemark.js');
    assert.ok(script >= 0, `no CLI path in ${argv.join(' ')}`);
    assert.deepEqual(argv.slice(script + 1), ['projector', ...args]);
    const nodeFlags = argv.slice(0, script);
    const max = flagValue(nodeFlags, 'max-semi-space-size');
    const min = flagValue(nodeFlags, 'min-semi-space-size');
    assert.match(max, /^\d+$/, 'a size in MB');
    assert.equal(min, max, 'a young generation that grows and shrinks commits fresh pages (page faults)');
    assert.equal(Number(max), 64);
    assert.equal(command.env?.GLIBC_TUNABLES, PROJECTOR_GLIBC_TUNABLES);
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
