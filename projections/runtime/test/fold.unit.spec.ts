import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventEnvelope } from '@tidemark/schemas';
import type { Lookup, ProjectionDefinition } from '../src/contracts';
import type { DeadLetterRecord } from '../src/dead-letters';
import { ParkedState } from '../src/dead-letters';
import type { FoldRecord } from '../src/fold';
import { foldBatch, replayParked } from '../src/fold';
import { decodeWatermarkPayload, encodeWatermarkPayloads } from '../src/watermark-bus';

type Doc = { total: number; seen: number[] };

function event(id: string, type: string, payload: Record<string, unknown>): EventEnvelope {
  return {
    id: '018f0000-0000-7000-8000-000000000000',
    type,
    schemaVersion: 1,
    aggregate: { type: 'counter', id },
    version: 1,
    commandId: 'c',
    correlationId: 'c',
    causationId: 'c',
    occurredAt: '2024-01-01T00:00:00.000Z',
    payload,
  };
}

function rec(offset: number, id: string, type = 'Added', payload: Record<string, unknown> = {}): FoldRecord {
  return { offset, type, event: event(id, type, { amount: 1, ...payload }) };
}

function definition(
  failurePolicy: 'stop' | 'dead-letter',
  poison: (e: EventEnvelope) => boolean = (e) => (e.payload as { poison?: boolean }).poison === true,
): Pick<ProjectionDefinition<Doc>, 'keys' | 'apply' | 'failurePolicy'> {
  return {
    failurePolicy,
    keys: (e) => {
      const extra = (e.payload as { alsoKey?: string }).alsoKey;
      return extra ? [e.aggregate.id, extra] : [e.aggregate.id];
    },
    apply: (current, e) => {
      if (poison(e)) throw new Error('cannot apply');
      if (e.type === 'Deleted') return null;
      const amount = (e.payload as { amount: number }).amount;
      return { total: (current?.total ?? 0) + amount, seen: [...(current?.seen ?? []), e.version] };
    },
  };
}

describe('foldBatch', () => {
  test('folds in offset order and writes each key once with the position past its last event', () => {
    const loaded = new Map<string, Lookup<Doc>>([
      ['a', 'absent'],
      ['b', { key: 'b', partition: 0, doc: { total: 10, seen: [] }, position: 3 }],
    ]);
    const result = foldBatch(definition('stop'), [rec(5, 'a'), rec(6, 'b'), rec(7, 'a')], loaded);
    assert.equal(result.halt, null);
    assert.equal(result.applied, 3);
    const writes = new Map(result.writes.map((w) => [w.key, w]));
    assert.deepEqual(writes.get('a'), { key: 'a', doc: { total: 2, seen: [1, 1] }, position: 8 });
    assert.deepEqual(writes.get('b'), { key: 'b', doc: { total: 11, seen: [1] }, position: 7 });
  });

  test('idempotent: an event at or behind the stored position is skipped', () => {
    const loaded = new Map<string, Lookup<Doc>>([
      ['a', { key: 'a', partition: 0, doc: { total: 2, seen: [] }, position: 8 }],
    ]);
    const result = foldBatch(definition('stop'), [rec(5, 'a'), rec(7, 'a'), rec(8, 'a')], loaded);
    assert.equal(result.skipped, 2);
    assert.deepEqual(result.writes, [{ key: 'a', doc: { total: 3, seen: [1] }, position: 9 }]);
    // Re-folding the same batch onto its own result changes nothing.
    const again = foldBatch(
      definition('stop'),
      [rec(5, 'a'), rec(7, 'a'), rec(8, 'a')],
      new Map([['a', { key: 'a', partition: 0, doc: { total: 3, seen: [1] }, position: 9 }]]),
    );
    assert.deepEqual(again.writes, []);
    assert.equal(again.skipped, 3);
  });

  test('tombstones: a delete writes doc null with its position', () => {
    const loaded = new Map<string, Lookup<Doc>>([
      ['a', { key: 'a', partition: 0, doc: { total: 1, seen: [] }, position: 2 }],
    ]);
    const result = foldBatch(definition('stop'), [rec(3, 'a', 'Deleted')], loaded);
    assert.deepEqual(result.writes, [{ key: 'a', doc: null, position: 4 }]);
  });

  test('unknown keys fold from null; a null result is not written as a tombstone', () => {
    const loaded = new Map<string, Lookup<Doc>>([
      ['a', 'unknown'],
      ['b', 'unknown'],
    ]);
    const result = foldBatch(definition('stop'), [rec(3, 'a'), rec(4, 'b', 'Deleted')], loaded);
    assert.deepEqual(result.writes, [{ key: 'a', doc: { total: 1, seen: [1] }, position: 4 }]);
  });

  test('stop: halts at the first poison event, writes only what came before', () => {
    const result = foldBatch(
      definition('stop'),
      [rec(1, 'a'), rec(2, 'b'), rec(3, 'a', 'Added', { poison: true, alsoKey: 'b' }), rec(4, 'c')],
      new Map(),
    );
    assert.equal(result.halt?.offset, 3);
    assert.equal(result.halt?.error.message, 'cannot apply');
    assert.deepEqual(
      result.writes.map((w) => [w.key, w.position]),
      [
        ['a', 2],
        ['b', 3],
      ],
    );
  });

  test('stop: an event that cannot be decoded halts too', () => {
    const result = foldBatch(
      definition('stop'),
      [rec(1, 'a'), { offset: 2, type: 'Added', error: new Error('bad json') }],
      new Map(),
    );
    assert.equal(result.halt?.offset, 2);
    assert.equal(result.writes.length, 1);
  });

  test('dead-letter: the poison event is skipped, later events of its key are parked behind it', () => {
    const result = foldBatch(
      definition('dead-letter'),
      [rec(1, 'a'), rec(2, 'a', 'Added', { poison: true }), rec(3, 'b'), rec(4, 'a'), rec(5, 'a', 'Deleted')],
      new Map(),
    );
    assert.equal(result.halt, null);
    assert.deepEqual(
      result.deadLetters.map((d) => [d.offset, d.keys, d.parkedBehind ?? null]),
      [
        [2, ['a'], null],
        [4, ['a'], 2],
        [5, ['a'], 2],
      ],
    );
    assert.equal(result.deadLetters[0]?.error, 'cannot apply');
    assert.deepEqual(result.deadLetters[1]?.error, 'parked behind offset 2');
    assert.deepEqual([...result.newlyParked], [['a', 2]]);
    const writes = new Map(result.writes.map((w) => [w.key, w]));
    assert.deepEqual(writes.get('a'), { key: 'a', doc: { total: 1, seen: [1] }, position: 2 });
    assert.equal(writes.get('b')?.position, 4);
  });

  test('dead-letter: keys parked by an earlier batch stay parked; other keys of the event go on', () => {
    const result = foldBatch(
      definition('dead-letter'),
      [rec(10, 'b', 'Added', { alsoKey: 'a' })],
      new Map(),
      new Map([['a', 2]]),
    );
    assert.deepEqual(result.writes, [{ key: 'b', doc: { total: 1, seen: [1] }, position: 11 }]);
    assert.deepEqual(
      result.deadLetters.map((d) => [d.offset, d.keys, d.parkedBehind]),
      [[10, ['a'], 2]],
    );
  });

  test('dead-letter: an undecodable record is dead-lettered without keys', () => {
    const result = foldBatch(
      definition('dead-letter'),
      [{ offset: 7, type: 'Added', error: new Error('bad json') }, rec(8, 'a')],
      new Map(),
    );
    assert.deepEqual(
      result.deadLetters.map((d) => [d.offset, d.keys]),
      [[7, []]],
    );
    assert.equal(result.writes.length, 1);
  });
});

describe('replayParked', () => {
  test('applies each key in offset order with the fixed code and unparks it', () => {
    const fixed = definition('dead-letter', () => false);
    const parked = [
      { offset: 5, key: 'a', event: event('a', 'Added', { amount: 5 }) },
      { offset: 2, key: 'a', event: event('a', 'Added', { amount: 2 }) },
    ];
    const loaded = new Map<string, Lookup<Doc>>([
      ['a', { key: 'a', partition: 0, doc: { total: 1, seen: [] }, position: 2 }],
    ]);
    const result = replayParked(fixed, parked, loaded);
    assert.deepEqual(result.writes, [{ key: 'a', doc: { total: 8, seen: [1, 1] }, position: 6 }]);
    assert.deepEqual(result.replayed, [
      { offset: 2, key: 'a' },
      { offset: 5, key: 'a' },
    ]);
    assert.deepEqual(result.failed, []);
  });

  test('a key whose event fails again keeps it and its later events parked', () => {
    const stillBroken = definition('dead-letter', (e) => (e.payload as { amount: number }).amount === 3);
    const parked = [
      { offset: 2, key: 'a', event: event('a', 'Added', { amount: 2 }) },
      { offset: 3, key: 'a', event: event('a', 'Added', { amount: 3 }) },
      { offset: 4, key: 'a', event: event('a', 'Added', { amount: 4 }) },
      { offset: 6, key: 'b', event: new Error('undecodable') },
    ];
    const result = replayParked(stillBroken, parked, new Map());
    assert.deepEqual(result.writes, [{ key: 'a', doc: { total: 2, seen: [1] }, position: 3 }]);
    assert.deepEqual(result.replayed, [{ offset: 2, key: 'a' }]);
    assert.deepEqual(
      result.failed.map((f) => [f.key, f.offset]),
      [
        ['a', 3],
        ['b', 6],
      ],
    );
  });

  test('already applied (position past the event): unparked without a write', () => {
    const parked = [{ offset: 2, key: 'a', event: event('a', 'Added', {}) }];
    const loaded = new Map<string, Lookup<Doc>>([
      ['a', { key: 'a', partition: 0, doc: { total: 9, seen: [] }, position: 3 }],
    ]);
    const result = replayParked(definition('dead-letter'), parked, loaded);
    assert.deepEqual(result.writes, []);
    assert.deepEqual(result.replayed, [{ offset: 2, key: 'a' }]);
  });
});

describe('ParkedState', () => {
  const dl = (offset: number, keys: string[], parkedBehind?: number): DeadLetterRecord => ({
    kind: 'dead-letter',
    partition: 0,
    offset,
    type: 'Added',
    keys,
    error: 'x',
    ...(parkedBehind !== undefined ? { parkedBehind } : {}),
    at: '',
    event: null,
  });

  test('rebuilds parked keys from the log, merges duplicates, unparks on replay results', () => {
    const state = new ParkedState();
    state.apply(dl(2, ['a']));
    state.apply(dl(4, ['a', 'b'], 2));
    state.apply(dl(2, ['a'])); // written twice (batch re-processed after a crash)
    state.apply({ kind: 'replay-request', partition: 0, requestId: 'r1', at: '' });
    assert.deepEqual(
      [...state.parkedKeys()],
      [
        ['a', 2],
        ['b', 4],
      ],
    );
    assert.equal(state.requests.length, 1);
    assert.deepEqual(
      state.entries().map((e) => [e.offset, e.key]),
      [
        [2, 'a'],
        [4, 'a'],
        [4, 'b'],
      ],
    );
    state.apply({
      kind: 'replay-result',
      partition: 0,
      requestId: 'r1',
      replayed: [
        { offset: 2, key: 'a' },
        { offset: 4, key: 'a' },
      ],
      failed: [{ offset: 4, key: 'b', error: 'x' }],
      at: '',
    });
    assert.deepEqual([...state.parkedKeys()], [['b', 4]]);
    assert.equal(state.requests.length, 0);
    assert.equal(state.size, 1);
  });
});

describe('watermark payloads', () => {
  test('split under the NOTIFY limit and round-trip', () => {
    const updates = Array.from({ length: 1000 }, (_, i) => ({
      context: 'listings',
      projection: 'listing-detail',
      version: 2,
      partition: i,
      offset: i * 1000,
    }));
    const payloads = encodeWatermarkPayloads(updates);
    assert.ok(payloads.length > 1);
    for (const payload of payloads) assert.ok(Buffer.byteLength(payload) < 8000);
    assert.deepEqual(payloads.flatMap(decodeWatermarkPayload), updates);
  });
});
