import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';

// Runs the CLI as a child process, so it is an integration test (the unit tier does no I/O).
const CLI = resolve(__dirname, '../../../bin/tidemark.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('tidemark --help texts', () => {
  test('the top level lists every command', () => {
    const result = run('--help');
    assert.equal(result.status, 0);
    for (const command of ['up', 'broker', 'processor', 'schemas'])
      assert.match(result.stdout, new RegExp(`\\n  ${command} `));
  });

  test('processor --help documents every option; a missing --brokers is a usage error', () => {
    const help = run('processor', '--help');
    assert.equal(help.status, 0);
    for (const option of [
      '--brokers',
      '--context',
      '--partitions',
      '--metrics-port',
      '--session-timeout-ms',
      '--snapshot-every',
      '--dedupe-window',
      '--max-batch',
    ]) {
      assert.ok(help.stdout.includes(option), option);
    }
    const missing = run('processor');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--brokers is required/);
  });

  test('up --help documents the gateway port and partitions', () => {
    const help = run('up', '--help');
    assert.equal(help.status, 0);
    for (const option of ['--data-dir', '--gateway-port', '--partitions', '--broker-port', '--components'])
      assert.ok(help.stdout.includes(option), option);
  });
});
