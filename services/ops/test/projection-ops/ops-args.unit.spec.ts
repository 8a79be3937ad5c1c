import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseDuration, resolveCommon } from '../../src/cli/ops-args';
import { UsageError } from '../../src/cli/usage-error';
import { formatProgress, formatReplaySummary, RateMeter } from '../../src/projection-ops/progress';

describe('parseDuration', () => {
  test('units, combinations and bare seconds', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('45'), 45_000);
    assert.equal(parseDuration('1.5s'), 1500);
  });

  test('anything else is refused', () => {
    for (const bad of ['', 'ten', '10 m', '-5s', '10x', 'm10', '5s3']) {
      assert.throws(() => parseDuration(bad), /not a duration/, bad);
    }
  });
});

describe('resolveCommon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-ops-args-'));
  const endpoints = join(dir, 'endpoints.json');
  writeFileSync(
    endpoints,
    JSON.stringify({
      gateway: 'http://127.0.0.1:18080',
      broker: '127.0.0.1:19092',
      postgres: 'postgres://tidemark:tidemark@127.0.0.1:15432/tidemark',
      redis: 'redis://127.0.0.1:16379',
      memcached: '127.0.0.1:21211',
      search: 'http://127.0.0.1:19200',
      apiKey: 'tdk_x',
    }),
  );

  test('--endpoints (a file or its data dir) gives every URL', () => {
    for (const location of [endpoints, dir]) {
      const { connection } = resolveCommon({ endpoints: location }, {});
      assert.deepEqual(connection.brokers, ['127.0.0.1:19092']);
      assert.deepEqual(connection.stores, {
        postgres: 'postgres://tidemark:tidemark@127.0.0.1:15432/tidemark',
        redis: 'redis://127.0.0.1:16379',
        memcached: '127.0.0.1:21211',
        elasticsearch: 'http://127.0.0.1:19200',
      });
      assert.equal(connection.context, 'listings');
      assert.equal(connection.partitions, undefined, 'read from the broker later');
    }
  });

  test('a flag wins over --endpoints, which wins over the environment', () => {
    const env = { TIDEMARK_BROKERS: 'env:1', TIDEMARK_REDIS_URL: 'redis://env:1', TIDEMARK_PARTITIONS: '4' };
    const { connection } = resolveCommon({ endpoints, brokers: 'flag:1,flag:2' }, env);
    assert.deepEqual(connection.brokers, ['flag:1', 'flag:2']);
    assert.equal(connection.stores.redis, 'redis://127.0.0.1:16379');
    assert.equal(connection.partitions, 4);
  });

  test('the environment alone works (the admin API variables)', () => {
    const { connection, actor, reason } = resolveCommon(
      { actor: 'alice', reason: 'fix prices' },
      {
        TIDEMARK_BROKERS: 'kafka-1:9092,kafka-2:9092',
        TIDEMARK_POSTGRES_URL: 'postgres://u:p@pg:5432/db',
        TIDEMARK_MEMCACHED_SERVERS: 'mc:11211',
        TIDEMARK_CONTEXT: 'listings',
      },
    );
    assert.deepEqual(connection.brokers, ['kafka-1:9092', 'kafka-2:9092']);
    assert.equal(connection.stores.memcached, 'mc:11211');
    assert.equal(actor, 'alice');
    assert.equal(reason, 'fix prices');
  });

  test('the actor defaults to cli:<os user>', () => {
    const { actor } = resolveCommon({ endpoints }, {});
    assert.match(actor, /^cli:.+/);
  });

  test('missing or bad settings are usage errors naming them', () => {
    assert.throws(
      () => resolveCommon({}, {}),
      (e: unknown) => e instanceof UsageError && /--brokers/.test(e.message),
    );
    assert.throws(
      () => resolveCommon({ endpoints, partitions: 'many' }, {}),
      (e: unknown) => e instanceof UsageError && /TIDEMARK_PARTITIONS/.test(e.message),
    );
    assert.throws(
      () => resolveCommon({ endpoints, postgres: 'http://nope' }, {}),
      (e: unknown) => e instanceof UsageError && /TIDEMARK_POSTGRES_URL/.test(e.message),
    );
    assert.throws(
      () => resolveCommon({ endpoints: join(dir, 'missing') }, {}),
      (e: unknown) => e instanceof UsageError && /does not exist/.test(e.message),
    );
    assert.throws(
      () => resolveCommon({ endpoints, context: 'nowhere' }, {}),
      (e: unknown) => e instanceof UsageError && /unknown context/.test(e.message),
    );
  });
});

describe('replay progress', () => {
  test('the progress line and the summary line', () => {
    const line = formatProgress({
      appliedEvents: 450_123,
      checkpointTotal: 450_123,
      logEndTotal: 1_000_000,
      eventsPerSecond: 38_201.4,
      lag: 549_877,
      etaSeconds: 14.2,
      elapsedSeconds: 11,
      partitions: [],
    });
    assert.equal(line, '[####......] 45% 450,123/1,000,000 events  38,201 ev/s  lag 549,877  ETA 15s');
    assert.equal(
      formatReplaySummary('listing-detail', 2, 1_000_000, 26.2),
      'replay listing-detail v2 live: 1000000 events in 26.2 s (38168 events/s)',
    );
  });

  test('an unknown rate shows no ETA; an empty log is done', () => {
    const line = formatProgress({
      appliedEvents: 0,
      checkpointTotal: 0,
      logEndTotal: 0,
      eventsPerSecond: 0,
      lag: 0,
      etaSeconds: null,
      elapsedSeconds: 0,
      partitions: [],
    });
    assert.match(line, /^\[##########\] 100% 0\/0 events {2}0 ev\/s {2}lag 0 {2}ETA \?$/);
  });

  test('RateMeter: the rate over a sliding window', () => {
    const meter = new RateMeter(5_000);
    assert.equal(meter.sample(0, 0), 0);
    assert.equal(meter.sample(1_000, 1_000), 1_000);
    assert.equal(meter.sample(2_000, 3_000), 1_500);
    // Later samples forget the start of the window.
    meter.sample(8_000, 4_000);
    assert.equal(meter.sample(9_000, 4_000), 1000 / 7);
  });
});
