/**
 * The watermark tracker of one context, in memory (bus, control table and checkpoints as fakes): waiters wake on
 * the update that covers their token and not before, bounded waits fail with a retryable CONSISTENCY_TIMEOUT
 * (DESIGN invariant 3: a read carrying token T reflects every event below T, or fails with a retryable error),
 * and across activations, rollbacks and candidates the watermark reads answer with never goes back (invariant 4:
 * watermarks a client sees never decrease). The engine builds one tracker per context; the context name filters
 * the bus updates.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConsistencyToken } from '@tidemark/schemas';
import { tokenFromPositions } from '@tidemark/schemas';
import type { TrackerLogger, VersionSwitch } from '../src';
import { WatermarkTracker } from '../src';
import { flush, MemoryBus, MemoryControl, MemorySink } from './support/fakes';

const IDENTITY = '0123456789abcdef';
const token = (positions: Record<number, number>): ConsistencyToken =>
  tokenFromPositions(IDENTITY, positions);
const CTX = 'listings';
const P = 'listing-detail';

async function setup(
  checkpoints: Record<number, number> = {},
  extra: { switchTimeoutMs?: number; logger?: TrackerLogger } = {},
) {
  const bus = new MemoryBus();
  const control = new MemoryControl();
  const sinks = new Map<number, MemorySink>();
  const sink = (version: number) => {
    let found = sinks.get(version);
    if (!found) {
      found = new MemorySink('postgres');
      sinks.set(version, found);
    }
    return found;
  };
  for (const [p, o] of Object.entries(checkpoints)) sink(1).checkpointMap.set(Number(p), o);
  await control.register({ context: CTX, name: P, version: 1, store: 'postgres' });
  let loads = 0;
  const switches: VersionSwitch[] = [];
  const tracker = new WatermarkTracker({
    context: CTX,
    projections: [P],
    bus,
    control,
    checkpoints: (_projection, version) => {
      loads++;
      return sink(version).checkpoints();
    },
    onSwitch: (change) => switches.push(change),
    ...extra,
  });
  await tracker.start();
  const publish = (partition: number, offset: number, version = 1, projection = P, context = CTX) =>
    bus.publish([{ context, projection, version, partition, offset }]);
  return { bus, control, sink, tracker, publish, switches, loads: () => loads };
}

const settled = async <T>(promise: Promise<T>) => {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  await flush();
  return state;
};

describe('WatermarkTracker', () => {
  test('given checkpoints that cover the token, waitFor resolves at once', async () => {
    const { tracker } = await setup({ 0: 5, 1: 3 });
    assert.equal(tracker.activeVersion(P), 1);
    assert.deepEqual(
      tracker.watermark(P),
      new Map([
        [0, 5],
        [1, 3],
      ]),
    );
    await tracker.waitFor(P, token({ 0: 5, 1: 2 }), 1000);
    await tracker.waitFor(P, token({}), 0);
    await tracker.stop();
  });

  test('a waiter wakes on the update that covers it, not before', async () => {
    const { tracker, publish } = await setup({ 0: 1 });
    const waiting = tracker.waitFor(P, token({ 0: 3, 1: 2 }), 5000);
    assert.equal(await settled(waiting), 'pending');
    await publish(0, 3);
    assert.equal(await settled(waiting), 'pending');
    assert.equal(tracker.waiting, 1);
    await publish(1, 1);
    assert.equal(await settled(waiting), 'pending');
    await publish(1, 2);
    assert.equal(await settled(waiting), 'resolved');
    assert.equal(tracker.waiting, 0);
    await tracker.stop();
  });

  test('an update wakes only the waiters it can satisfy, in offset order', async () => {
    const { tracker, publish } = await setup();
    const order: number[] = [];
    const waits = [7, 2, 9, 4, 4].map((offset) =>
      tracker.waitFor(P, token({ 0: offset }), 5000).then(() => order.push(offset)),
    );
    await publish(0, 4);
    await flush();
    assert.deepEqual(order.sort(), [2, 4, 4]);
    assert.equal(tracker.waiting, 2);
    await publish(0, 100);
    await Promise.all(waits);
    assert.equal(tracker.waiting, 0);
    await tracker.stop();
  });

  test('the watermark only moves forward (max), and older updates wake nobody', async () => {
    const { tracker, publish } = await setup({ 0: 10 });
    await publish(0, 4);
    assert.equal(tracker.watermark(P).get(0), 10);
    await tracker.stop();
  });

  test('updates of another context, projection or a non-active version do not satisfy a waiter', async () => {
    const { tracker, publish } = await setup();
    const waiting = tracker.waitFor(P, token({ 0: 1 }), 5000);
    await publish(0, 5, 2);
    await publish(0, 5, 1, 'seller-stats');
    await publish(0, 5, 1, P, 'other');
    assert.equal(await settled(waiting), 'pending');
    assert.equal(tracker.watermark(P, 2).get(0), 5, 'the other version is tracked all the same');
    await publish(0, 1);
    assert.equal(await settled(waiting), 'resolved');
    await tracker.stop();
  });

  test('after the bound: a retryable 503 CONSISTENCY_TIMEOUT naming the lacking partitions', async () => {
    const { tracker } = await setup({ 0: 1 });
    const started = Date.now();
    await assert.rejects(tracker.waitFor(P, token({ 0: 2 }), 50), (error: Record<string, unknown>) => {
      assert.equal(error.code, 'CONSISTENCY_TIMEOUT');
      assert.equal(error.status, 503);
      assert.equal(error.retryable, true);
      assert.deepEqual((error.headers as Record<string, string>)['Retry-After'], '1');
      assert.deepEqual((error.details as { lacking: unknown }).lacking, { 0: { required: 2, applied: 1 } });
      return true;
    });
    assert.ok(Date.now() - started >= 45);
    assert.equal(tracker.waiting, 0);
    await tracker.stop();
  });

  test('an aborted wait rejects with REQUEST_ABORTED and leaves no waiter behind', async () => {
    const { tracker, publish } = await setup();
    const controller = new AbortController();
    const waiting = tracker.waitFor(P, token({ 0: 2 }), 5000, controller.signal);
    assert.equal(tracker.waiting, 1);
    controller.abort();
    await assert.rejects(waiting, { code: 'REQUEST_ABORTED' });
    assert.equal(tracker.waiting, 0);
    await publish(0, 2);
    const already = new AbortController();
    already.abort();
    await assert.rejects(tracker.waitFor(P, token({ 0: 3 }), 5000, already.signal), {
      code: 'REQUEST_ABORTED',
    });
    await tracker.stop();
  });

  test('on a bus reconnect the checkpoints are reloaded (updates may have been lost)', async () => {
    const { tracker, bus, sink } = await setup();
    const waiting = tracker.waitFor(P, token({ 1: 4 }), 5000);
    sink(1).checkpointMap.set(1, 4); // committed, but its bus message was lost
    assert.equal(await settled(waiting), 'pending');
    bus.reconnect();
    assert.equal(await settled(waiting), 'resolved');
    await tracker.stop();
  });

  test('a change of active version loads its checkpoints, then re-checks the waiters against it', async () => {
    const { tracker, control, sink, loads, publish } = await setup({ 0: 1 });
    await control.register({ context: CTX, name: P, version: 2, store: 'postgres' });
    sink(2).checkpointMap.set(0, 9);
    const waiting = tracker.waitFor(P, token({ 0: 5 }), 5000);
    assert.equal(await settled(waiting), 'pending');
    const before = loads();
    await control.activate(CTX, P, 2);
    assert.equal(await settled(waiting), 'resolved');
    assert.equal(tracker.activeVersion(P), 2);
    assert.equal(loads(), before + 1);
    assert.equal(tracker.watermark(P).get(0), 9);
    // Rollback: the same switch in reverse, once v1 has caught up with v2.
    await publish(0, 9);
    await control.activate(CTX, P, 1);
    await flush();
    assert.equal(tracker.activeVersion(P), 1);
    assert.equal(tracker.covers(P, token({ 0: 10 })), false);
    await tracker.stop();
  });

  test('an activation switches reads only once the new version covers the old one', async () => {
    const { tracker, control, sink, publish, switches } = await setup({ 0: 5, 1: 2 });
    await control.register({ context: CTX, name: P, version: 2, store: 'postgres' });
    sink(2).checkpointMap.set(0, 3);
    sink(2).checkpointMap.set(1, 2);
    await control.activate(CTX, P, 2);
    await flush();
    assert.equal(tracker.activeVersion(P), 1, 'v2 lacks partition 0: reads stay on v1');
    assert.deepEqual(tracker.route(P), { active: 1, switching: 2, candidate: null });
    // A read that follows the active version waits on v1 meanwhile.
    const waiting = tracker.waitFor(P, token({ 1: 3 }), 5000);
    await publish(0, 4, 2);
    await flush();
    assert.equal(tracker.activeVersion(P), 1);
    await publish(0, 5, 2);
    await flush();
    assert.equal(tracker.activeVersion(P), 2);
    assert.deepEqual(tracker.route(P), { active: 2, switching: null, candidate: null });
    assert.equal(await settled(waiting), 'pending', 'and now on v2');
    await publish(1, 3, 1);
    assert.equal(await settled(waiting), 'pending', 'v1 no longer counts');
    await publish(1, 3, 2);
    assert.equal(await settled(waiting), 'resolved');
    assert.deepEqual(
      switches.map(({ from, to, covered }) => ({ from, to, covered })),
      [
        { from: null, to: 1, covered: true },
        { from: 1, to: 2, covered: true },
      ],
    );
    await tracker.stop();
  });

  test('the watermark reads answer with never decreases across a switch, even while the old version moves on', async () => {
    const { tracker, control, sink, publish } = await setup({ 0: 5, 1: 5 });
    await control.register({ context: CTX, name: P, version: 2, store: 'postgres' });
    sink(2).checkpointMap.set(0, 2);
    let highest = new Map<number, number>();
    const observe = () => {
      const watermark = tracker.watermark(P);
      for (const [partition, offset] of highest) {
        assert.ok((watermark.get(partition) ?? 0) >= offset, `partition ${partition} went back`);
      }
      highest = watermark;
    };
    observe();
    await control.activate(CTX, P, 2);
    await flush();
    const steps: [number, number, number][] = [
      [0, 6, 1],
      [1, 7, 1],
      [0, 5, 2],
      [1, 5, 2],
      [0, 6, 2],
      [0, 8, 1],
      [1, 7, 2],
      [0, 8, 2],
    ];
    for (const [partition, offset, version] of steps) {
      await publish(partition, offset, version);
      await flush();
      observe();
      if (tracker.activeVersion(P) === 1) {
        assert.equal(tracker.route(P).switching, 2);
      }
    }
    assert.equal(tracker.activeVersion(P), 2);
    assert.deepEqual(
      tracker.watermark(P),
      new Map([
        [0, 8],
        [1, 7],
      ]),
    );
    await tracker.stop();
  });

  test('a new version that does not cover in time: reads switch anyway after the bound, with a warning', async () => {
    const warnings: Record<string, unknown>[] = [];
    const logger: TrackerLogger = {
      info() {},
      debug() {},
      warn: (fields) => warnings.push(fields),
    };
    const { tracker, control, sink, switches } = await setup({ 0: 5, 2: 4 }, { switchTimeoutMs: 60, logger });
    await control.register({ context: CTX, name: P, version: 2, store: 'postgres' });
    sink(2).checkpointMap.set(0, 5);
    sink(2).checkpointMap.set(2, 1);
    const started = Date.now();
    await control.activate(CTX, P, 2);
    while (tracker.activeVersion(P) !== 2) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(Date.now() - started >= 55);
    assert.equal(switches.at(-1)?.covered, false);
    const warning = warnings.find((w) => w.lacking !== undefined);
    assert.deepEqual(warning?.lacking, { 2: { required: 4, applied: 1 } });
    assert.equal(tracker.waiting, 0, 'the switch leaves no waiter behind');
    await tracker.stop();
  });

  test('a rollback before the switch happened keeps reads where they are', async () => {
    const { tracker, control, sink, publish, switches } = await setup({ 0: 5 });
    await control.register({ context: CTX, name: P, version: 2, store: 'postgres' });
    sink(2).checkpointMap.set(0, 1);
    await control.activate(CTX, P, 2);
    await flush();
    assert.equal(tracker.route(P).switching, 2);
    await control.activate(CTX, P, 1);
    await flush();
    assert.deepEqual(tracker.route(P), { active: 1, switching: null, candidate: null });
    assert.equal(tracker.waiting, 0);
    await publish(0, 9, 2);
    assert.equal(tracker.activeVersion(P), 1);
    assert.equal(switches.length, 1);
    await tracker.stop();
  });

  test('a candidate version is tracked: its checkpoints loaded, its bus updates followed, waits on it work', async () => {
    const { tracker, control, sink, publish, loads } = await setup({ 0: 5 });
    await control.register({ context: CTX, name: P, version: 2, store: 'postgres' });
    sink(2).checkpointMap.set(0, 2);
    const before = loads();
    await control.setCandidate(CTX, P, { version: 2, mode: 'shadow', percent: 100 });
    await flush();
    assert.deepEqual(tracker.candidate(P), { version: 2, mode: 'shadow', percent: 100 });
    assert.equal(loads(), before + 1);
    assert.equal(tracker.watermark(P, 2).get(0), 2);
    assert.equal(tracker.covers(P, token({ 0: 3 }), 2), false);
    assert.equal(tracker.covers(P, token({ 0: 3 })), true, 'the active version covers it');
    const onCandidate = tracker.waitFor(P, token({ 0: 4 }), 5000, undefined, 2);
    await publish(0, 9, 1);
    assert.equal(await settled(onCandidate), 'pending', 'v1 progress does not satisfy a wait on v2');
    await publish(0, 4, 2);
    assert.equal(await settled(onCandidate), 'resolved');
    await assert.rejects(
      tracker.waitFor(P, token({ 0: 8 }), 30, undefined, 2),
      (error: Record<string, unknown>) => {
        assert.equal(error.code, 'CONSISTENCY_TIMEOUT');
        assert.deepEqual(error.details, {
          view: P,
          timeoutMs: 30,
          version: 2,
          lacking: { 0: { required: 8, applied: 4 } },
        });
        return true;
      },
    );
    await control.setCandidate(CTX, P, { version: 2, mode: 'split', percent: 25 });
    await flush();
    assert.deepEqual(tracker.route(P).candidate, { version: 2, mode: 'split', percent: 25 });
    // Activation clears the candidate (control does) and reads switch once v2 covers v1.
    await publish(0, 9, 2);
    await control.activate(CTX, P, 2);
    await flush();
    assert.deepEqual(tracker.route(P), { active: 2, switching: null, candidate: null });
    await tracker.stop();
  });

  test('without an active version a waiter waits for one', async () => {
    const bus = new MemoryBus();
    const control = new MemoryControl();
    const sink = new MemorySink('postgres');
    sink.checkpointMap.set(0, 3);
    const tracker = new WatermarkTracker({
      context: CTX,
      projections: [P],
      bus,
      control,
      checkpoints: () => sink.checkpoints(),
    });
    await tracker.start();
    assert.equal(tracker.activeVersion(P), null);
    assert.equal(tracker.covers(P, token({})), false);
    const waiting = tracker.waitFor(P, token({ 0: 2 }), 5000);
    assert.equal(await settled(waiting), 'pending');
    await control.register({ context: CTX, name: P, version: 1, store: 'postgres' });
    assert.equal(await settled(waiting), 'resolved');
    await tracker.stop();
  });

  test('a failed checkpoint load is logged and retried when a read needs the version', async () => {
    const bus = new MemoryBus();
    const control = new MemoryControl();
    await control.register({ context: CTX, name: P, version: 1, store: 'postgres' });
    let failing = true;
    const tracker = new WatermarkTracker({
      context: CTX,
      projections: [P],
      bus,
      control,
      checkpoints: async () => {
        if (failing) throw new Error('postgres down');
        return new Map([[0, 7]]);
      },
    });
    await tracker.start();
    assert.deepEqual(tracker.watermark(P), new Map());
    failing = false;
    await tracker.waitFor(P, token({ 0: 7 }), 1000);
    await tracker.stop();
  });

  test('stop rejects waiting reads with a retryable QUERY_SHUTTING_DOWN and unsubscribes', async () => {
    const { tracker, bus } = await setup();
    const waiting = tracker.waitFor(P, token({ 0: 2 }), 5000);
    await tracker.stop();
    await assert.rejects(waiting, { code: 'QUERY_SHUTTING_DOWN', status: 503, retryable: true });
    assert.equal(bus.subscribers, 0);
  });
});
