import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestBroker } from '../support/test-broker';
import { startTestBroker, waitFor } from '../support/test-broker';

const CLI = resolve(__dirname, '../../../../../services/ops/bin/tidemark.js');

describe('tidemark broker command line', () => {
  test('--help documents every option', () => {
    const result = spawnSync(process.execPath, [CLI, 'broker', '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    for (const option of [
      '--port',
      '--host',
      '--data-dir',
      '--metrics-port',
      '--partitions',
      '--no-auto-create',
      '--max-frame-bytes',
      '--segment-bytes',
      '--retention-bytes',
      '--retention-ms',
      '--log-level',
    ]) {
      assert.ok(result.stdout.includes(option), `help mentions ${option}`);
    }
  });

  test('an unknown option or a bad value is a usage error (exit 2) with a clear message', () => {
    const unknown = spawnSync(process.execPath, [CLI, 'broker', '--bogus'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /bogus/);
    const badPort = spawnSync(process.execPath, [CLI, 'broker', '--port', 'eighty'], { encoding: 'utf8' });
    assert.equal(badPort.status, 2);
    assert.match(badPort.stderr, /--port must be an integer/);
    const unknownCommand = spawnSync(process.execPath, [CLI, 'frobnicate'], { encoding: 'utf8' });
    assert.equal(unknownCommand.status, 2);
  });
});

describe('broker metrics endpoint', () => {
  let tb: TestBroker;
  before(async () => {
    tb = await startTestBroker({ metricsPort: 0 });
  });
  after(async () => {
    await tb.close();
  });

  test('exposes requests by API and error, bytes, fsync percentiles, partition sizes and group states', async () => {
    const kafka = tb.kafka();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'metered', acks: -1, messages: [{ value: 'x'.repeat(1000) }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'metered-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'metered', fromBeginning: true });
    let seen = 0;
    await consumer.run({
      eachMessage: async () => {
        seen++;
      },
    });
    await waitFor('consumed', () => seen === 1);
    const url = tb.broker.metricsUrl;
    assert.ok(url);
    const text = await (await fetch(url)).text();
    await consumer.disconnect();
    assert.match(text, /tidemark_broker_requests_total\{api="Produce",error="NONE"\} [1-9]/);
    assert.match(text, /tidemark_broker_requests_total\{api="JoinGroup",error="NONE"\} [1-9]/);
    assert.match(text, /tidemark_broker_bytes_in_total [1-9]/);
    assert.match(text, /tidemark_broker_bytes_out_total [1-9]/);
    assert.match(text, /tidemark_broker_fsync_duration_seconds\{quantile="0.99"\} \d/);
    assert.match(text, /tidemark_broker_partition_size_bytes\{topic="metered",partition="0"\} [1-9]\d*/);
    assert.match(text, /tidemark_broker_groups\{state="Stable"\} 1/);
    const health = await fetch(url.replace('/metrics', '/healthz'));
    assert.equal(health.status, 200);
  });
});
