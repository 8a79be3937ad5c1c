/**
 * Invariants 1 and 6 under fencing: processors SIGKILLed mid-batch and SIGSTOPped across a rebalance (then woken
 * as zombies) while 32 clients send commands. Every command gets an outcome (the processors keep answering: no
 * 30 s without progress), every accepted command's events are in the log exactly once, gapless and in order per
 * aggregate, nothing else is, and a zombie's writes are never visible.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PartitionReader, partitionForKey } from '@tidemark/kafka';
import type { CommandOutcome } from '@tidemark/schemas';
import { EventEnvelope } from '@tidemark/schemas';
import type { ChildProcessor } from './child-processor';
import { startChildProcessor } from './child-processor';
import { CommandClient, publishPayload, startTestBroker } from './harness';

const PARTITIONS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fencing: processors killed and paused under load', () => {
  let stack: Awaited<ReturnType<typeof startTestBroker>>;
  const processors: ChildProcessor[] = [];
  let client: CommandClient;
  before(async () => {
    stack = await startTestBroker();
  });
  after(async () => {
    for (const p of processors) {
      p.signal('SIGCONT');
      await p.kill();
    }
    await client?.close();
    await stack.close();
  });

  test('SIGKILL mid-batch and SIGSTOP across a rebalance keep every invariant; no zombie write is visible', async () => {
    const bootstrap = stack.broker.bootstrap;
    processors.push(await startChildProcessor('A', bootstrap, PARTITIONS));
    processors.push(await startChildProcessor('B', bootstrap, PARTITIONS));
    client = await CommandClient.start(bootstrap, 'listings');

    const aggregates = Array.from({ length: 120 }, (_, i) => `fence-${i}`);
    const sent: { commandId: string; aggregateId: string; promise: Promise<CommandOutcome> }[] = [];
    let running = true;
    let counter = 0;
    const workers = Array.from({ length: 32 }, async (_, w) => {
      while (running) {
        const aggregateId = aggregates[(w * 7 + counter) % aggregates.length] as string;
        const commandId = `w${w}-${counter++}`;
        const promise =
          counter % 5 === 0
            ? client.send(commandId, 'PublishListing', aggregateId, publishPayload('seller', 1000), 'new')
            : client.send(commandId, 'ChangePrice', aggregateId, { priceCents: 100 + (counter % 900) });
        sent.push({ commandId, aggregateId, promise });
        await Promise.race([promise, sleep(200)]);
      }
    });

    await sleep(1500);
    const [a, b] = processors as [ChildProcessor, ChildProcessor];
    a.signal('SIGKILL'); // mid-batch: it is processing continuously
    await sleep(4000); // B takes over A's partitions after A's session times out
    processors.push(await startChildProcessor('C', bootstrap, PARTITIONS));
    await sleep(2000);
    b.signal('SIGSTOP'); // B stops mid-flight; C takes everything over after B's session times out
    await sleep(6000);
    b.signal('SIGCONT'); // B wakes up as a zombie: its transactions must be refused
    await sleep(3000);
    running = false;
    await Promise.all(workers);

    // The backlog drains at whatever speed this machine has (a loaded CI run is several times slower): the
    // processors must keep answering, and a stall (30 s without a single new outcome) fails the test.
    const answered = new Map<string, CommandOutcome>();
    for (const s of sent) void s.promise.then((outcome) => answered.set(s.commandId, outcome));
    let lastCount = -1;
    let lastProgress = Date.now();
    while (answered.size < sent.length && Date.now() - lastProgress < 30_000) {
      if (answered.size !== lastCount) {
        lastCount = answered.size;
        lastProgress = Date.now();
      }
      await sleep(100);
    }
    const outcomes = sent.map((s) => ({ ...s, outcome: answered.get(s.commandId) ?? null }));
    const unanswered = outcomes.filter((o) => o.outcome === null);
    assert.deepEqual(
      unanswered.map((o) => o.commandId),
      [],
      'every command got an outcome',
    );

    // Read the whole events log under read_committed.
    const reader = PartitionReader.create([bootstrap]);
    const log: { partition: number; event: EventEnvelope; producer: string }[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const end = await reader.endOffset('listings.events', p);
      await reader.read('listings.events', p, 0, end, (records) => {
        for (const r of records) {
          if (r.headers.type === 'tidemark.genesis') continue;
          log.push({
            partition: p,
            event: EventEnvelope.parse(JSON.parse(r.value?.toString() ?? '')),
            producer: r.headers.producer ?? '',
          });
        }
      });
    }
    reader.close();

    // 1. No two events share (aggregate, version); versions are gapless and in order per aggregate.
    const byAggregate = new Map<string, number[]>();
    for (const { event, partition } of log) {
      byAggregate.set(event.aggregate.id, [...(byAggregate.get(event.aggregate.id) ?? []), event.version]);
      assert.equal(
        partition,
        partitionForKey(event.aggregate.id, PARTITIONS),
        'event in its aggregate partition',
      );
    }
    for (const [id, versions] of byAggregate) {
      assert.deepEqual(
        versions,
        versions.map((_, i) => i + 1),
        `aggregate ${id}: gapless, ordered, unique versions`,
      );
    }
    // 2. Every accepted command's events are in the log exactly once; nothing else is.
    const logIds = new Map(log.map(({ event }) => [event.id, event]));
    assert.equal(logIds.size, log.length, 'no event twice');
    const acceptedIds = new Set<string>();
    for (const { outcome } of outcomes) {
      if (outcome?.status !== 'accepted') continue;
      for (const event of outcome.events) {
        acceptedIds.add(event.id);
        assert.deepEqual(
          logIds.get(event.id),
          event,
          `event ${event.id} of ${outcome.commandId} is in the log as answered`,
        );
      }
    }
    for (const { event } of log)
      assert.ok(acceptedIds.has(event.id), `event ${event.id} belongs to an accepted command`);
    // 3. Rejected or conflicting commands appended nothing.
    const commandsInLog = new Set(log.map(({ event }) => event.commandId));
    for (const { outcome, commandId } of outcomes) {
      if (outcome && outcome.status !== 'accepted')
        assert.ok(!commandsInLog.has(commandId), `${commandId} appended nothing`);
    }
    assert.ok(
      outcomes.filter((o) => o.outcome?.status === 'accepted').length > 100,
      'the load did real work',
    );
    assert.ok(new Set(log.map((l) => l.producer)).size >= 2, 'more than one processor wrote');
  });
});
