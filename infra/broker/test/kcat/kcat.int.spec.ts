import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { TestBroker } from '../support/test-broker';
import { startTestBroker, waitFor } from '../support/test-broker';

/** Runs kcat (librdkafka 2.0, Debian's package) with optional stdin; resolves with its exit code and output. */
function kcat(
  args: string[],
  input?: string,
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

async function metric(url: string, api: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`tidemark_broker_requests_total{api="${api}",error="NONE"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('kcat (librdkafka) against the embedded broker', () => {
  let tb: TestBroker;
  before(async () => {
    tb = await startTestBroker({ metricsPort: 0, defaultPartitions: 3 });
  });
  after(async () => {
    await tb.close();
  });

  test('produce keyed messages, then read them back', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `key${i % 7}:value-${i}`).join('\n');
    const produced = await kcat(
      ['-b', tb.broker.bootstrap, '-P', '-t', 'kcat-plain', '-K:', '-X', 'acks=all'],
      `${lines}\n`,
    );
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat([
      '-b',
      tb.broker.bootstrap,
      '-C',
      '-t',
      'kcat-plain',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%k:%s\n',
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    const got = consumed.stdout.trim().split('\n').sort();
    assert.deepEqual(got, lines.split('\n').sort());
  });

  test('consume with a consumer group and commit offsets', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `value-${i}`).join('\n');
    assert.equal((await kcat(['-b', tb.broker.bootstrap, '-P', '-t', 'kcat-group'], `${lines}\n`)).code, 0);
    const consumed = await kcat([
      '-b',
      tb.broker.bootstrap,
      '-G',
      'kcat-consumers',
      'kcat-group',
      '-X',
      'auto.offset.reset=earliest',
      '-X',
      'session.timeout.ms=6000',
      '-c',
      '30',
      '-f',
      '%s\n',
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n').sort(), lines.split('\n').sort());

    const admin = tb.kafka().admin();
    await admin.connect();
    await waitFor('kcat commits its offsets on close', async () => {
      const [offsets] = await admin.fetchOffsets({ groupId: 'kcat-consumers', topics: ['kcat-group'] });
      return (offsets?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) ?? 0) === 30;
    });
    await admin.disconnect();
  });

  test('idempotent produce (enable.idempotence=true) stores each message once', async () => {
    const metricsUrl = tb.broker.metricsUrl;
    assert.ok(metricsUrl);
    const initsBefore = await metric(metricsUrl, 'InitProducerId');
    const lines = Array.from({ length: 200 }, (_, i) => `idem-${i}`).join('\n');
    const produced = await kcat(
      ['-b', tb.broker.bootstrap, '-P', '-t', 'kcat-idem', '-X', 'enable.idempotence=true'],
      `${lines}\n`,
    );
    assert.equal(produced.code, 0, produced.stderr);
    assert.ok(
      (await metric(metricsUrl, 'InitProducerId')) > initsBefore,
      'librdkafka obtained a producer id',
    );
    const consumed = await kcat([
      '-b',
      tb.broker.bootstrap,
      '-C',
      '-t',
      'kcat-idem',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%s\n',
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n').sort(), lines.split('\n').sort());
  });
});
