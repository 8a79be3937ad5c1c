/**
 * `tidemark processor` as an operator runs it: the CLI with only the required settings (every other one at its
 * default), against the embedded broker, driven through kafkajs. It once spun on empty chunks forever when
 * --max-batch was not given.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningBroker, startBroker } from '@tidemark/broker';
import { createKafka } from '@tidemark/kafka';
import { CommandOutcome } from '@tidemark/schemas';
import pino from 'pino';
import { REPO_DEPLOYMENT_FILE } from '../support/deployment';

const CLI = resolve(__dirname, '../../../bin/tidemark.js');

let dir: string;
let broker: RunningBroker;
let child: ChildProcess | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-processor-cli-'));
  await chmod(dir, 0o755);
  broker = await startBroker({ dataDir: dir, port: 0, logLevel: 'warn' });
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await broker?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('tidemark processor with default settings decides commands and stops cleanly on SIGTERM', async () => {
  const processor = spawn(
    process.execPath,
    [
      CLI,
      'processor',
      '--brokers',
      broker.bootstrap,
      '--config',
      REPO_DEPLOYMENT_FILE,
      '--context',
      'listings',
      '--partitions',
      '2',
      '--metrics-port=-1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDEMARK_LOG_LEVEL: 'warn' } },
  );
  child = processor;
  let stderr = '';
  processor.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((ready, fail) => {
    let out = '';
    processor.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('processor ready listings')) ready();
    });
    processor.once('exit', (code) => fail(new Error(`tidemark processor exited (${code}): ${stderr}`)));
  });

  const kafka = createKafka({
    brokers: [broker.bootstrap],
    clientId: 'processor-cli-test',
    logger: pino({ level: 'silent' }),
  });
  const outcomes = new Map<string, CommandOutcome>();
  const consumer = kafka.consumer({ groupId: `processor-cli-test-${Date.now()}`, maxWaitTimeInMs: 50 });
  const producer = kafka.producer();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: 'listings.command-results', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const outcome = CommandOutcome.parse(JSON.parse(message.value?.toString() ?? 'null'));
        outcomes.set(outcome.commandId, outcome);
      },
    });
    await producer.connect();
    const ids = Array.from({ length: 10 }, (_, i) => `cli-listing-${i}`);
    await producer.send({
      topic: 'listings.commands',
      acks: -1,
      messages: ids.map((id) => ({
        key: id,
        value: JSON.stringify({
          commandId: `cmd-${id}`,
          type: 'PublishListing',
          aggregateId: id,
          expectedVersion: 'new',
          payload: {
            sellerId: 'cli-seller',
            title: `Bike ${id}`,
            description: 'A fine bike',
            category: 'bikes',
            priceCents: 1000,
            currency: 'EUR',
            location: { country: 'NL', city: 'Utrecht' },
          },
          metadata: {
            correlationId: `cmd-${id}`,
            causationId: `cmd-${id}`,
            receivedAt: new Date(0).toISOString(),
          },
        }),
      })),
    });
    const deadline = Date.now() + 30_000;
    while (ids.some((id) => !outcomes.has(`cmd-${id}`))) {
      assert.ok(Date.now() < deadline, `outcomes of every command within 30 s (have ${outcomes.size})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const id of ids) {
      const outcome = outcomes.get(`cmd-${id}`);
      assert.ok(outcome?.status === 'accepted', JSON.stringify(outcome));
      assert.equal(outcome.aggregateVersion, 1);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }

  const exited = new Promise<number | null>((done) => processor.once('exit', (code) => done(code)));
  processor.kill('SIGTERM');
  assert.equal(await exited, 0, `a clean stop on SIGTERM: ${stderr}`);
});
