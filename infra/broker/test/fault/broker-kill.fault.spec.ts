/**
 * SIGKILL of the broker in the middle of a produce stream (DESIGN.md, invariant 6: "Kill -9 of any process, a
 * broker restart ... loses no acknowledged write"). With acks=-1 an acknowledged batch is in the log; a batch
 * whose send failed at the kill is in doubt (it may have been appended before the broker died). The producers
 * do not retry, so nothing is appended twice. After the restart, the whole recovered log must hold:
 * - every acknowledged value (nothing lost),
 * - nothing but acknowledged and in-doubt values (nothing invented), each at one offset only (no duplicates),
 * - each producer's values of a partition in the order it sent them (a producer sends its next batch only once
 *   the previous one is acknowledged),
 * and a new write goes right after the recovered log's end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChildBroker } from '../support/child-broker';
import { freePort, startChildBroker } from '../support/child-broker';
import { makeTempDir } from '../support/temp-dir';
import { kafkaClient, waitFor } from '../support/test-broker';

const PRODUCERS = 4;

/** `p<producer>-<sequence>`: the sequence grows with every value sent, across producers. */
function parseValue(value: string): { producer: number; sequence: number } | null {
  const match = /^p(\d+)-(\d+)$/.exec(value);
  return match ? { producer: Number(match[1]), sequence: Number(match[2]) } : null;
}

describe('broker killed with SIGKILL during a produce stream', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: ChildBroker | undefined;
  before(async () => {
    dir = await makeTempDir('kill');
  });
  after(async () => {
    await broker?.kill('SIGKILL');
    await dir.remove();
  });

  test('loses no acknowledged message, writes none twice, keeps each producer in order, serves them after restart', async () => {
    const port = await freePort();
    broker = await startChildBroker(dir.path, port, ['--partitions', '3']);
    const kafka = kafkaClient(broker.bootstrap, { retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();

    const acknowledged = new Set<string>();
    /** Values of the sends that failed at the kill: appended or not, nobody was told. */
    const inDoubt = new Set<string>();
    let sequence = 0;
    let stopped = false;
    const streams = Array.from({ length: PRODUCERS }, async (_, index) => {
      while (!stopped) {
        const values = Array.from({ length: 25 }, () => `p${index}-${sequence++}`);
        try {
          await producer.send({
            topic: 'durable',
            acks: -1,
            messages: values.map((value) => ({ key: value, value })),
          });
          for (const value of values) acknowledged.add(value);
        } catch {
          for (const value of values) inDoubt.add(value);
          return; // the broker is gone: this batch was never acknowledged
        }
      }
    });
    await waitFor('a stream of acknowledged writes', () => acknowledged.size >= 3000, 30_000);
    await broker.kill('SIGKILL');
    stopped = true;
    await Promise.all(streams);
    await producer.disconnect().catch(() => undefined);

    broker = await startChildBroker(dir.path, port);
    const reader = kafkaClient(broker.bootstrap);
    const readerAdmin = reader.admin();
    await readerAdmin.connect();
    const ends = new Map(
      (await readerAdmin.fetchTopicOffsets('durable')).map(({ partition, high }) => [
        partition,
        Number(high),
      ]),
    );
    await readerAdmin.disconnect();
    // The whole recovered log, by partition and offset (a redelivery lands on the same offset).
    const log = new Map<number, Map<number, string>>([...ends.keys()].map((p) => [p, new Map()]));
    const consumer = reader.consumer({ groupId: 'after-crash', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'durable', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        log.get(partition)?.set(Number(message.offset), message.value?.toString() ?? '');
      },
    });
    await waitFor(
      'the whole recovered log',
      () => [...ends].every(([partition, end]) => end === 0 || log.get(partition)?.has(end - 1) === true),
      30_000,
    );
    await consumer.disconnect();

    const read = [...log.values()].flatMap((records) => [...records.values()]);
    const readOnce = new Set(read);
    assert.deepEqual(
      [...acknowledged].filter((v) => !readOnce.has(v)),
      [],
      'every acknowledged value is in the log',
    );
    assert.deepEqual(
      read.filter((v) => !acknowledged.has(v) && !inDoubt.has(v)),
      [],
      'the log holds only values that were sent, acknowledged or in doubt',
    );
    assert.equal(read.length, readOnce.size, 'no value is in the log twice');
    assert.ok(read.length >= acknowledged.size && read.length <= acknowledged.size + inDoubt.size);
    for (const [partition, records] of log) {
      const lastOf = new Map<number, number>();
      for (const [offset, value] of [...records].sort((a, b) => a[0] - b[0])) {
        const parsed = parseValue(value);
        assert.ok(parsed, `partition ${partition} offset ${offset}: unexpected value ${value}`);
        const previous = lastOf.get(parsed.producer) ?? -1;
        assert.ok(
          parsed.sequence > previous,
          `partition ${partition} offset ${offset}: ${value} after p${parsed.producer}-${previous}`,
        );
        lastOf.set(parsed.producer, parsed.sequence);
      }
    }

    // The recovered log takes new writes right after the old ones.
    const producer2 = reader.producer();
    await producer2.connect();
    const [result] = await producer2.send({
      topic: 'durable',
      acks: -1,
      messages: [{ value: 'after', partition: 0 }],
    });
    assert.equal(result?.errorCode, 0);
    assert.equal(result?.baseOffset, String(ends.get(0)));
    await producer2.disconnect();
  });
});
