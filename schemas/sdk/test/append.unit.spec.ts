/** The built-in append command's decision: events appended as given, each checked against the registry. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APPEND_COMMAND_TYPE, EventRegistry } from '@tidemark/schemas';
import { z } from 'zod';
import { appendDecision } from '../src/index';

const registry = new EventRegistry([
  {
    type: 'ThingCreated',
    versions: [
      { version: 1, schema: z.object({ name: z.string() }) },
      {
        version: 2,
        schema: z.object({ name: z.string(), size: z.number().int().default(1) }),
        upcast: (previous) => previous,
      },
    ],
  },
  { type: 'ThingDeleted', versions: [{ version: 1, schema: z.object({}) }] },
]);

test('the command type is "append"', () => {
  assert.equal(APPEND_COMMAND_TYPE, 'append');
});

test('events are appended in order, payloads parsed by the latest schema', () => {
  const events = appendDecision(registry, {
    aggregateType: 'thing',
    events: [
      { type: 'ThingCreated', payload: { name: 'a' } },
      { type: 'ThingDeleted', payload: {} },
    ],
  });
  assert.deepEqual(events, [
    { type: 'ThingCreated', payload: { name: 'a', size: 1 } },
    { type: 'ThingDeleted', payload: {} },
  ]);
});

test('an unknown event type is EVENT_TYPE_UNKNOWN naming its index', () => {
  assert.throws(
    () =>
      appendDecision(registry, {
        aggregateType: 'thing',
        events: [
          { type: 'ThingDeleted', payload: {} },
          { type: 'Nope', payload: {} },
        ],
      }),
    (error: { code: string; status: number; details: { index: number }; message: string }) => {
      assert.equal(error.code, 'EVENT_TYPE_UNKNOWN');
      assert.equal(error.status, 400);
      assert.equal(error.details.index, 1);
      assert.match(error.message, /^events\[1\]: unknown event type 'Nope'/);
      return true;
    },
  );
});

test('an invalid payload is EVENT_INVALID with its issues', () => {
  assert.throws(
    () =>
      appendDecision(registry, {
        aggregateType: 'thing',
        events: [{ type: 'ThingCreated', payload: { name: 3 } }],
      }),
    (error: { code: string; details: { index: number; issues: { path: string }[] } }) => {
      assert.equal(error.code, 'EVENT_INVALID');
      assert.equal(error.details.index, 0);
      assert.equal(error.details.issues[0]?.path, 'name');
      return true;
    },
  );
});

test('a payload that is not an AppendPayload is COMMAND_INVALID', () => {
  assert.throws(() => appendDecision(registry, { aggregateType: 'thing', events: [] }), {
    code: 'COMMAND_INVALID',
  });
  assert.throws(() => appendDecision(registry, 'nonsense'), { code: 'COMMAND_INVALID' });
});

test('another aggregate type than expected is refused when one is expected', () => {
  const payload = { aggregateType: 'other', events: [{ type: 'ThingDeleted', payload: {} }] };
  assert.throws(() => appendDecision(registry, payload, 'thing'), { code: 'AGGREGATE_TYPE_MISMATCH' });
  assert.equal(appendDecision(registry, payload).length, 1);
});
