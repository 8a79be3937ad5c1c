import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import {
  createPgClient,
  isPortOpen,
  liveChildPids,
  type Stack,
  startBrokerComponent,
  startStack,
} from '../src/index';

/** The part of memjs used here (the repo has no @types/memjs). */
interface MemjsClient {
  set(key: string, value: string, options: { expires?: number }): Promise<boolean>;
  get(key: string): Promise<{ value: Buffer | null }>;
  close(): void;
}
const memjs = require('memjs') as {
  Client: { create(servers: string, options?: { retries?: number; logger?: { log(): void } }): MemjsClient };
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOf(hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
}

const tempDirs: string[] = [];
const stacks: Stack[] = [];

async function tempDir(prefix: string): Promise<string> {
  // fs.mkdtemp makes a 0700 directory: the stack must cope (postgres runs as another user under root).
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

after(async () => {
  // Whatever happened above, leave nothing running.
  await Promise.allSettled(stacks.map((s) => s.stop()));
  for (const dir of tempDirs) await fs.rm(dir, { recursive: true, force: true });
});

describe('startStack: postgres, redis, memcached', () => {
  let dataDir = '';
  let stack: Stack | undefined;

  test('starts the three components and writes endpoints.json', async () => {
    dataDir = await tempDir('tidemark-stack-');
    stack = await startStack({
      dataDir,
      components: ['postgres', 'redis', 'memcached'],
      writeEndpoints: true,
    });
    stacks.push(stack);
    const { endpoints } = stack;
    assert.match(endpoints.postgres ?? '', /^postgres:\/\/tidemark:tidemark@127\.0\.0\.1:\d+\/tidemark$/);
    assert.match(endpoints.redis ?? '', /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.match(endpoints.memcached ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(endpoints.broker, undefined);
    assert.equal(stack.pids().length, 3);
    assert.match(stack.components.postgres?.version ?? '', /^\d+\.\d+/);

    const file = JSON.parse(readFileSync(path.join(dataDir, 'endpoints.json'), 'utf8')) as Record<
      string,
      string
    >;
    assert.deepEqual(Object.keys(file), ['postgres', 'redis', 'memcached']);
    assert.equal(file.postgres, endpoints.postgres);
  });

  test('postgres answers through pg: select 1, create table, insert', async () => {
    const client = createPgClient({ connectionString: stack?.endpoints.postgres });
    await client.connect();
    try {
      const one = await client.query<{ one: number }>('select 1 as one');
      assert.equal(one.rows[0]?.one, 1);
      await client.query('create table durable_check (id int primary key, note text not null)');
      await client.query('insert into durable_check values ($1, $2)', [1, 'survives restarts']);
    } finally {
      await client.end();
    }
  });

  test('redis answers through ioredis: SET/GET', async () => {
    const redis = new Redis(stack?.endpoints.redis ?? '', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      assert.equal(await redis.set('tidemark:durable', 'kept'), 'OK');
      assert.equal(await redis.get('tidemark:durable'), 'kept');
    } finally {
      redis.disconnect();
    }
  });

  test('memcached answers through memjs: set/get', async () => {
    const mc = memjs.Client.create(stack?.endpoints.memcached ?? '', { retries: 0, logger: { log() {} } });
    try {
      assert.equal(await mc.set('greeting', 'hello', { expires: 60 }), true);
      const got = await mc.get('greeting');
      assert.equal(got.value?.toString(), 'hello');
    } finally {
      mc.close();
    }
  });

  test('stop() ends every child process and closes every port', async () => {
    assert.ok(stack);
    const pids = stack.pids();
    const ports = [
      portOf(new URL(stack.endpoints.postgres ?? '').host),
      Number(new URL(stack.endpoints.redis ?? '').port),
      portOf(stack.endpoints.memcached ?? ''),
    ];
    for (const pid of pids) assert.ok(isAlive(pid), `pid ${pid} should run before stop`);
    await stack.stop();
    for (const pid of pids) {
      assert.throws(() => process.kill(pid, 0), `pid ${pid} still exists after stop`);
    }
    for (const port of ports)
      assert.equal(await isPortOpen(port), false, `port ${port} still open after stop`);
    assert.equal(existsSync(path.join(dataDir, 'endpoints.json')), false, 'endpoints.json removed on stop');
    assert.deepEqual(liveChildPids(), []);
    await stack.stop(); // idempotent
  });

  test('a restart on the same data dir keeps the postgres row and the redis key', async () => {
    const again = await startStack({ dataDir, components: ['postgres', 'redis'] });
    stacks.push(again);
    assert.equal(again.components.postgres?.detail, undefined, 'existing cluster reused, not re-initialised');
    const client = createPgClient({ connectionString: again.endpoints.postgres });
    await client.connect();
    try {
      const rows = await client.query<{ note: string }>('select note from durable_check where id = 1');
      assert.equal(rows.rows[0]?.note, 'survives restarts');
    } finally {
      await client.end();
    }
    const redis = new Redis(again.endpoints.redis ?? '', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      assert.equal(await redis.get('tidemark:durable'), 'kept');
    } finally {
      redis.disconnect();
    }
    const pids = again.pids();
    await again.stop();
    for (const pid of pids) assert.equal(isAlive(pid), false);
  });

  test('a kill -9 is reported, and restart() brings the component back on the same port', async () => {
    const exits: string[] = [];
    let reported: () => void = () => undefined;
    const exitReported = new Promise<void>((resolve) => {
      reported = resolve;
    });
    const again = await startStack({
      dataDir,
      components: ['redis'],
      onComponentExit: (component) => {
        exits.push(component);
        reported();
      },
    });
    stacks.push(again);
    const endpoint = again.endpoints.redis;
    const pid = again.components.redis?.pid ?? -1;
    process.kill(pid, 'SIGKILL');
    await exitReported;
    assert.deepEqual(exits, ['redis']);
    await assert.rejects(startStack({ dataDir, components: ['memcached'] }), /in use by process/);
    await again.restart('redis');
    assert.equal(again.endpoints.redis, endpoint);
    assert.notEqual(again.components.redis?.pid, pid);
    const redis = new Redis(endpoint ?? '', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      // Written (and fsynced by the clean stop) in the first session.
      assert.equal(await redis.get('tidemark:durable'), 'kept');
    } finally {
      redis.disconnect();
    }
    await again.stop();
    assert.deepEqual(exits, ['redis'], 'a requested stop is not reported as a crash');
  });
});

describe('startStack failures', () => {
  test('a component that cannot start is named, and what did start is stopped', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const busyPort = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const dataDir = await tempDir('tidemark-stack-fail-');
      await assert.rejects(
        startStack({ dataDir, components: ['memcached', 'redis'], ports: { redis: busyPort } }),
        (error: Error) => {
          assert.match(error.message, /failed to start redis/);
          assert.match(error.message, new RegExp(`port ${busyPort}`));
          return true;
        },
      );
      assert.deepEqual(liveChildPids(), [], 'memcached must have been stopped again');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});

/** A real round trip through the broker with kafkajs: create a topic, produce, consume. */
async function roundTrip(bootstrap: string, topic: string): Promise<string[]> {
  const kafka = new Kafka({ clientId: 'stack-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value: 'one' }, { value: 'two' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value?.toString() ?? '');
        if (values.length === 2) resolve();
      },
    });
  });
  await consumer.disconnect();
  return values;
}

describe('broker component', () => {
  test('the whole stack with the in-process broker: kafkajs round trip, endpoints, clean stop', async () => {
    const dataDir = await tempDir('tidemark-full-stack-');
    const stack = await startStack({ dataDir, ports: { broker: 0, postgres: 0, redis: 0, memcached: 0 } });
    stacks.push(stack);
    assert.match(stack.endpoints.broker ?? '', /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(await roundTrip(stack.endpoints.broker ?? '', 'stack-topic'), ['one', 'two']);
    await stack.stop();
    assert.equal(await isPortOpen(portOf(stack.endpoints.broker ?? '')), false);
  });

  test('child mode runs `tidemark broker`, serves kafkajs, and leaves nothing behind on stop', async () => {
    const dir = await tempDir('tidemark-child-broker-');
    const broker = await startBrokerComponent({
      dataDir: path.join(dir, 'broker'),
      mode: 'child',
      metricsPort: 0,
    });
    try {
      assert.equal(broker.mode, 'child');
      assert.match(broker.bootstrap, /^127\.0\.0\.1:\d+$/);
      assert.ok(broker.pid !== undefined && isAlive(broker.pid));
      assert.deepEqual(await roundTrip(broker.bootstrap, 'child-topic'), ['one', 'two']);
      const metrics = await (await fetch(broker.metricsUrl ?? '')).text();
      assert.match(metrics, /tidemark_broker_requests_total\{api="Produce",error="NONE"\}/);
    } finally {
      await broker.stop();
    }
    assert.equal(isAlive(broker.pid ?? -1), false);
    assert.equal(await isPortOpen(broker.port), false);
  });
});
