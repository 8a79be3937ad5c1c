/** DeciderSpecification on a tiny counter decider: each helper passes when it should and fails when it should. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventRegistry } from '@tidemark/schemas';
import { z } from 'zod';
import { BusinessRuleViolation, type Decider, type DomainCommand } from '../src/index';
import { DeciderSpecification } from '../src/testing/index';

type CounterEvent =
  | { type: 'Incremented'; payload: { by: number } }
  | { type: 'Reset'; payload: { at: string } };
type CounterCommand =
  | DomainCommand<'Increment', { by: number }>
  | DomainCommand<'Reset', Record<string, never>>;
interface CounterState {
  total: number;
}

const counter: Decider<CounterCommand, CounterEvent, CounterState> = {
  initialState: () => ({ total: 0 }),
  decide(command, state) {
    switch (command.type) {
      case 'Increment':
        if (command.payload.by === 0) return [];
        if (state.total + command.payload.by > 10)
          throw new BusinessRuleViolation('COUNTER_FULL', 'at most 10');
        return [{ type: 'Incremented', payload: { by: command.payload.by } }];
      case 'Reset':
        if (command.payload === null) throw new TypeError('a bug, not a rule');
        return [{ type: 'Reset', payload: { at: command.context.receivedAt } }];
    }
  },
  evolve(state, event) {
    return event.type === 'Incremented' ? { total: state.total + event.payload.by } : { total: 0 };
  },
};

const spec = DeciderSpecification.for(counter);
const incremented = (by: number): CounterEvent => ({ type: 'Incremented', payload: { by } });

test('then: passes on the exact events, fails on others', () => {
  spec
    .given([incremented(2)])
    .when({ type: 'Increment', payload: { by: 3 } })
    .then([incremented(3)]);
  assert.throws(
    () =>
      spec
        .given([])
        .when({ type: 'Increment', payload: { by: 3 } })
        .then([incremented(4)]),
    assert.AssertionError,
  );
});

test('then: fails, naming the rule, when the command is rejected', () => {
  assert.throws(
    () =>
      spec
        .given([incremented(9)])
        .when({ type: 'Increment', payload: { by: 3 } })
        .then([incremented(3)]),
    /broke rule COUNTER_FULL/,
  );
});

test('thenThrows: passes on the code, fails on another code or on success, rethrows a non-rule error', () => {
  spec
    .given([incremented(9)])
    .when({ type: 'Increment', payload: { by: 2 } })
    .thenThrows('COUNTER_FULL');
  assert.throws(
    () =>
      spec
        .given([incremented(9)])
        .when({ type: 'Increment', payload: { by: 2 } })
        .thenThrows('OTHER'),
    assert.AssertionError,
  );
  assert.throws(
    () =>
      spec
        .given([])
        .when({ type: 'Increment', payload: { by: 2 } })
        .thenThrows('COUNTER_FULL'),
    /expected to break rule COUNTER_FULL but emitted Incremented/,
  );
  assert.throws(
    () =>
      spec
        .given([])
        .when({ type: 'Reset', payload: null as unknown as Record<string, never> })
        .thenThrows('X'),
    TypeError,
  );
});

test('thenNothingHappened: passes on no events only', () => {
  spec
    .given([])
    .when({ type: 'Increment', payload: { by: 0 } })
    .thenNothingHappened();
  assert.throws(
    () =>
      spec
        .given([])
        .when({ type: 'Increment', payload: { by: 1 } })
        .thenNothingHappened(),
    assert.AssertionError,
  );
});

test('command context gets defaults and can be overridden', () => {
  spec
    .given([])
    .when({ type: 'Reset', payload: {} })
    .then([{ type: 'Reset', payload: { at: '2025-01-01T00:00:00.000Z' } }]);
  spec
    .given([])
    .when({ type: 'Reset', payload: {}, context: { receivedAt: '2030-05-05T00:00:00.000Z' } })
    .then([{ type: 'Reset', payload: { at: '2030-05-05T00:00:00.000Z' } }]);
});

test('thenState: asserts the state after history and new events', () => {
  const events = spec
    .given([incremented(1)])
    .when({ type: 'Increment', payload: { by: 4 } })
    .thenState({ total: 5 });
  assert.deepEqual(events, [incremented(4)]);
});

test('with an event registry, emitted events must satisfy their latest schema', () => {
  const strict = new EventRegistry([
    { type: 'Incremented', versions: [{ version: 1, schema: z.object({ by: z.number().max(2) }) }] },
    { type: 'Reset', versions: [{ version: 1, schema: z.object({ at: z.string() }) }] },
  ]);
  const checked = DeciderSpecification.for(counter, { events: strict });
  checked
    .given([])
    .when({ type: 'Increment', payload: { by: 2 } })
    .then([incremented(2)]);
  assert.throws(
    () =>
      checked
        .given([])
        .when({ type: 'Increment', payload: { by: 3 } })
        .then([incremented(3)]),
    { code: 'EVENT_INVALID' },
  );
});
