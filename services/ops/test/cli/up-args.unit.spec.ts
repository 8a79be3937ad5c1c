import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatTable,
  parseUpArgs,
  UP_DEFAULT_METRICS_PORT,
  UP_DEFAULT_PORTS,
  UP_HELP,
  UpUsageError,
} from '../../src/cli/up-args';

describe('parseUpArgs', () => {
  test('defaults: .tidemark under cwd, fixed ports, every component, in-process broker', () => {
    const args = parseUpArgs([], '/repo');
    assert.deepEqual(args, {
      help: false,
      dataDir: '/repo/.tidemark',
      components: ['broker', 'postgres', 'redis', 'memcached', 'search'],
      ports: { broker: 19092, postgres: 15432, redis: 16379, memcached: 21211, search: 19200 },
      metricsPort: UP_DEFAULT_METRICS_PORT,
      brokerMode: 'in-process',
      projectorMode: 'in-process',
      processorMode: 'in-process',
      gatewayPort: 18080,
      queryPort: 18081,
      adminPort: 18082,
      partitions: 8,
    });
    assert.deepEqual(args.ports, UP_DEFAULT_PORTS);
  });

  test('--catalog (or TIDEMARK_CATALOG) names a catalog module, resolved against cwd', () => {
    assert.equal(parseUpArgs(['--catalog', 'dist/catalog.js'], '/repo', {}).catalog, '/repo/dist/catalog.js');
    assert.equal(parseUpArgs([], '/repo', { TIDEMARK_CATALOG: '/abs/c.js' }).catalog, '/abs/c.js');
    assert.equal(parseUpArgs([], '/repo', { TIDEMARK_CATALOG: '' }).catalog, undefined);
    assert.ok(UP_HELP.includes('--catalog <file>'));
  });

  test('every option', () => {
    const args = parseUpArgs(
      [
        '--data-dir',
        'state',
        '--broker-port',
        '9092',
        '--postgres-port=0',
        '--redis-port',
        '6380',
        '--memcached-port',
        '11212',
        '--search-port',
        '9201',
        '--metrics-port=-1',
        '--components',
        'postgres, redis',
        '--broker-mode',
        'child',
        '--projector-mode',
        'child',
        '--processor-mode',
        'child',
        '--gateway-port',
        '8081',
        '--partitions',
        '3',
      ],
      '/repo',
    );
    assert.equal(args.dataDir, '/repo/state');
    assert.deepEqual(args.ports, { broker: 9092, postgres: 0, redis: 6380, memcached: 11212, search: 9201 });
    assert.equal(args.metricsPort, null);
    assert.deepEqual(args.components, ['postgres', 'redis']);
    assert.equal(args.brokerMode, 'child');
    assert.equal(args.projectorMode, 'child');
    assert.equal(args.processorMode, 'child');
    assert.equal(args.gatewayPort, 8081);
    assert.equal(args.partitions, 3);
  });

  test('--projector-mode off runs no projectors (the write path alone)', () => {
    assert.equal(parseUpArgs(['--projector-mode', 'off'], '/repo').projectorMode, 'off');
  });

  test('absolute --data-dir is kept; --help / -h', () => {
    assert.equal(parseUpArgs(['--data-dir', '/var/tm'], '/repo').dataDir, '/var/tm');
    assert.equal(parseUpArgs(['--help']).help, true);
    assert.equal(parseUpArgs(['-h']).help, true);
  });

  test('bad input is a UpUsageError', () => {
    for (const argv of [
      ['--broker-port', 'abc'],
      ['--redis-port', '70000'],
      ['--postgres-port', '-5'],
      ['--components', 'postgres,kafka'],
      ['--components', ''],
      ['--broker-mode', 'thread'],
      ['--projector-mode', 'thread'],
      ['--processor-mode', 'off'],
      ['--partitions', '0'],
      ['--gateway-port', 'x'],
      ['--unknown'],
      ['positional'],
    ]) {
      assert.throws(() => parseUpArgs(argv, '/repo'), UpUsageError, argv.join(' '));
    }
  });

  test('--help text names every option', () => {
    for (const option of [
      '--data-dir',
      '--broker-port',
      '--postgres-port',
      '--redis-port',
      '--memcached-port',
      '--metrics-port',
      '--components',
      '--broker-mode',
      '--help',
    ]) {
      assert.ok(UP_HELP.includes(option), option);
    }
  });
});

describe('formatTable', () => {
  test('aligns columns under a header', () => {
    const text = formatTable([
      { component: 'redis', endpoint: 'redis://127.0.0.1:16379', pid: '12', version: '7.0.15', note: '' },
      { component: 'postgres', endpoint: 'postgres://x', pid: '3', version: '18.4', note: 'new cluster' },
    ]);
    const lines = text.split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^COMPONENT\s+ENDPOINT\s+PID\s+VERSION\s+NOTE$/);
    const col = (lines[0] ?? '').indexOf('ENDPOINT');
    assert.equal((lines[1] ?? '').indexOf('redis://'), col);
    assert.equal((lines[2] ?? '').indexOf('postgres://'), col);
  });
});
