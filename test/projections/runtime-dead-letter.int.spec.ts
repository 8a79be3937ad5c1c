import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { partitionForKey } from '@tidemark/kafka';
import type { ProjectionDefinition, Sink } from '@tidemark/projection-runtime';
import {
  createPostgresWatermarkBus,
  listDeadLetters,
  Projector,
  replayDeadLetters,
} from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import type { CounterDoc, Harness } from '../support/runtime-harness';
import {
  counterProjection,
  diffView,
  EventLog,
  isMarkedPoison,
  PARTITIONS,
  postgresSink,
  registry,
  startHarness,
} from '../support/runtime-harness';

const CLI = resolve(__dirname, '../../../services/ops/bin/tidemark.js');

/** `tidemark dead-letters <action> --json` for the test's projection: exit code and parsed output. */
async function deadLettersCli(
  action: 'list' | 'replay',
  projection: { context: string; name: string; version: number },
): Promise<{ code: number; output: { entries?: { status: string }[]; results?: unknown[] } }> {
  const args = [
    CLI,
    'dead-letters',
    action,
    '--brokers',
    h.brokers.join(','),
    '--context',
    projection.context,
  ];
  args.push('--projection', projection.name, '--version', String(projection.version), '--json');
  try {
    const { stdout } = await promisify(execFile)(process.execPath, args);
    return { code: 0, output: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, output: JSON.parse(failed.stdout || '{}') };
  }
}

let h: Harness;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  h = await startHarness();
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await h?.close();
});

async function startProjector(
  definition: ProjectionDefinition<CounterDoc>,
  sink: Sink<CounterDoc>,
): Promise<Projector<CounterDoc>> {
  const bus = createPostgresWatermarkBus({ connectionString: h.postgres, logger: h.logger });
  closers.push(() => bus.close());
  const projector = await Projector.start({
    brokers: h.brokers,
    definition,
    sink,
    events: registry,
    bus,
    logger: h.logger,
    sessionTimeoutMs: 3000,
    heartbeatIntervalMs: 300,
    deadLetter: { pollIntervalMs: 200 },
  });
  closers.push(() => projector.stop());
  return projector;
}

test('dead-letter policy: recorded, skipped, later events of the key parked (also after a restart), replayed in order after a fix', async () => {
  const context = 'rtdl';
  const log = new EventLog(h, context);
  closers.push(() => log.close());
  await log.create();
  // "Deploying the fix" flips this; the restarted projector runs the fixed code.
  let fixed = false;
  const definition = counterProjection(
    context,
    'dead-letter',
    (e: EventEnvelope) => !fixed && isMarkedPoison(e),
  );
  const sink = postgresSink(h, definition);
  closers.push(() => sink.close());
  const tool = { brokers: h.brokers, projection: definition, logger: h.logger };

  const victim = 'victim';
  const bystanders = ['b-0', 'b-1', 'b-2', 'b-3', 'b-4', 'b-5'];
  const victimPartition = partitionForKey(victim, PARTITIONS);
  await log.append([{ id: victim, amount: 1 }, ...bystanders.map((id) => ({ id }))]);
  await log.append([{ id: victim, amount: 2 }]);
  await log.append([
    { id: victim, amount: 100, poison: true },
    ...bystanders.map((id) => ({ id, amount: 3 })),
  ]);
  await log.append([
    { id: victim, amount: 4, legacy: true },
    { id: victim, amount: 8 },
  ]);
  const victimEvents = log.produced.filter((p) => p.event.aggregate.id === victim);
  const poison = victimEvents[2];
  assert.ok(poison && isMarkedPoison(poison.event));

  let projector = await startProjector(definition, sink);
  await projector.waitForWatermark(log.ends(), 30_000);
  // Everything but the victim's events from the poison one on is applied; the watermark passed them all.
  assert.deepEqual(
    await diffView(
      sink,
      log.expected((p) => p.event.aggregate.id !== victim || p.offset < poison.offset),
    ),
    [],
  );
  let listing = await listDeadLetters(tool);
  assert.deepEqual(
    listing.entries.map((e) => [e.partition, e.offset, e.status, e.parkedBehind ?? null, e.keys]),
    victimEvents
      .slice(2)
      .map((p, i) => [victimPartition, p.offset, 'pending', i === 0 ? null : poison.offset, [victim]]),
  );
  assert.match(listing.entries[0]?.error ?? '', /poison event victim v3/);
  // The operator's view of the same: `tidemark dead-letters list` exits 3 while dead letters are pending.
  const cliList = await deadLettersCli('list', definition);
  assert.equal(cliList.code, 3);
  assert.equal(cliList.output.entries?.length, listing.entries.length);
  assert.equal((listing.entries[0]?.event as EventEnvelope | undefined)?.id, poison.event.id);

  // Restart: the parked key is rebuilt from the dead-letter topic, so the victim's next event is parked too.
  await projector.stop();
  projector = await startProjector(definition, sink);
  await log.append([
    { id: victim, amount: 16 },
    { id: 'b-0', amount: 7 },
  ]);
  await projector.waitForWatermark(log.ends(), 30_000);
  listing = await listDeadLetters(tool);
  assert.equal(listing.entries.filter((e) => e.status === 'pending').length, 4);
  assert.equal(listing.entries.at(-1)?.parkedBehind, poison.offset);

  // A replay while the code is still broken keeps the key parked (and applies nothing out of order).
  const stillBroken = await replayDeadLetters({ ...tool, partitions: [victimPartition], waitMs: 20_000 });
  assert.equal(stillBroken.results.length, 1);
  assert.deepEqual(stillBroken.results[0]?.replayed, []);
  assert.equal(stillBroken.results[0]?.failed[0]?.offset, poison.offset);
  assert.equal((await listDeadLetters(tool)).entries.filter((e) => e.status === 'pending').length, 4);

  // Deploy the fix (restart with fixed code) and replay: the view equals the fold of the whole log.
  await projector.stop();
  fixed = true;
  projector = await startProjector(definition, sink);
  const outcome = await replayDeadLetters({ ...tool, waitMs: 20_000 });
  assert.equal(outcome.results.length, PARTITIONS);
  const result = outcome.results.find((r) => r.partition === victimPartition);
  assert.deepEqual(
    result?.replayed.map((r) => r.offset),
    log.produced
      .filter((p) => p.event.aggregate.id === victim)
      .slice(2)
      .map((p) => p.offset),
  );
  assert.deepEqual(await diffView(sink, log.expected()), []);
  listing = await listDeadLetters(tool);
  assert.ok(listing.entries.every((e) => e.status === 'replayed'));
  const cliAfter = await deadLettersCli('list', definition);
  assert.equal(cliAfter.code, 0);
  assert.ok(cliAfter.output.entries?.every((e) => e.status === 'replayed'));
  assert.equal(listing.pendingRequests.length, 0);

  // Unparked: the victim's next event is applied normally.
  await log.append([{ id: victim, amount: 32 }]);
  await projector.waitForWatermark(log.ends(), 30_000);
  assert.deepEqual(await diffView(sink, log.expected()), []);
  assert.equal((await listDeadLetters(tool)).entries.length, 4);
  await projector.stop();
});
