import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestBroker } from '../support/test-broker';
import { startTestBroker, waitFor } from '../support/test-broker';

interface WorkerEvent {
  worker: number;
  kind: 'A' | 'P' | 'C';
  partition: number;
  offset: number;
  value: string;
  partitions: number[];
}

class Worker {
  readonly child: ChildProcess;
  assignment: number[] = [];
  constructor(
    readonly id: number,
    bootstrap: string,
    events: WorkerEvent[],
  ) {
    this.child = spawn(
      process.execPath,
      [join(__dirname, '../support/group-worker.js'), bootstrap, 'three-members', 'group-topic', '1500'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buffered = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, a = '', b = '', c = ''] = line.split(' ');
        if (kind === 'A') {
          this.assignment = a === '' ? [] : a.split(',').map(Number);
          events.push({
            worker: id,
            kind,
            partition: -1,
            offset: -1,
            value: '',
            partitions: this.assignment,
          });
        } else if (kind === 'P' || kind === 'C') {
          events.push({
            worker: id,
            kind,
            partition: Number(a),
            offset: Number(b),
            value: c,
            partitions: [],
          });
        }
      }
    });
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  stop(signal: NodeJS.Signals): Promise<void> {
    return new Promise((resolve) => {
      if (!this.alive) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

describe('consumer group of three', () => {
  let tb: TestBroker;
  const workers: Worker[] = [];
  before(async () => {
    tb = await startTestBroker();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await tb.close();
  });

  test('rebalances when a member leaves and when one is killed; nothing lost, nothing redone past a commit', async () => {
    const kafka = tb.kafka();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'group-topic', numPartitions: 6 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    let produced = 0;
    const produce = async (count: number) => {
      await producer.send({
        topic: 'group-topic',
        acks: -1,
        messages: Array.from({ length: count }, () => ({
          key: `key-${produced % 50}`,
          value: String(produced++),
        })),
      });
    };
    const events: WorkerEvent[] = [];
    const processedValues = () => new Set(events.filter((e) => e.kind === 'P').map((e) => e.value));

    await produce(300);
    for (let i = 0; i < 3; i++) workers.push(new Worker(i, tb.broker.bootstrap, events));
    await waitFor(
      'three members sharing six partitions',
      () => {
        const all = workers.flatMap((w) => w.assignment);
        return workers.every((w) => w.assignment.length === 2) && new Set(all).size === 6;
      },
      30_000,
    );
    await waitFor('first 300 processed', () => processedValues().size >= 300, 30_000);

    // A member leaves cleanly (LeaveGroup): the other two take over its partitions.
    await workers[0]?.stop('SIGTERM');
    await produce(150);
    await waitFor(
      'two members sharing six partitions',
      () => {
        const all = [workers[1], workers[2]].flatMap((w) => w?.assignment ?? []);
        return all.length === 6 && new Set(all).size === 6;
      },
      30_000,
    );
    await waitFor('450 processed', () => processedValues().size >= 450, 30_000);

    // A member is killed: only its session timeout tells the group, then the survivor gets everything.
    await produce(100);
    await workers[1]?.stop('SIGKILL');
    await produce(50);
    await waitFor('the survivor owns all six partitions', () => workers[2]?.assignment.length === 6, 30_000);
    await waitFor('600 processed', () => processedValues().size >= 600, 30_000);
    await producer.disconnect();

    // Nothing lost.
    assert.equal(processedValues().size, 600);
    // Nothing processed again once its offset was committed: a repeat is allowed only for an uncommitted message.
    const committed = new Set<string>();
    const processedOnce = new Set<string>();
    let repeats = 0;
    for (const event of events) {
      const key = `${event.partition}/${event.offset}`;
      if (event.kind === 'C') committed.add(key);
      if (event.kind === 'P') {
        if (processedOnce.has(key)) {
          repeats++;
          assert.ok(!committed.has(key), `message ${key} processed again after its commit`);
        }
        processedOnce.add(key);
      }
    }
    assert.ok(repeats <= 2, `at most the killed member's in-flight message is redone (saw ${repeats})`);
  });
});
