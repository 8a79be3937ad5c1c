import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveCommon } from '../../src/cli/ops-args';
import { UsageError } from '../../src/cli/usage-error';
import { REPO_DEPLOYMENT_FILE } from '../support/deployment';

// Reads an endpoints file from disk, so it is an integration test (the unit tier does no I/O). Where the
// platform is, which deployment module and catalog it runs: flags, then endpoints.json, then the environment.
describe('resolveCommon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-ops-args-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
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
      // What `tidemark up` ran with: operator commands load the same modules.
      config: REPO_DEPLOYMENT_FILE,
      catalog: REPO_DEPLOYMENT_FILE,
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
      assert.equal(connection.config, REPO_DEPLOYMENT_FILE);
      assert.equal(connection.catalog, REPO_DEPLOYMENT_FILE);
      assert.equal(connection.context, undefined, 'a projection names its context');
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
      () => resolveCommon({ endpoints, context: 'Not A Name' }, {}),
      (e: unknown) => e instanceof UsageError && /TIDEMARK_CONTEXT/.test(e.message),
    );
    assert.throws(
      () => resolveCommon({ endpoints, config: join(dir, 'nowhere.js') }, {}),
      (e: unknown) => e instanceof UsageError && /TIDEMARK_CONFIG/.test(e.message),
    );
  });
});
