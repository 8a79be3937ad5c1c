/**
 * The {{name}} decider: decide(command, state) returns the events a command causes, or throws a
 * BusinessRuleViolation (answered 422 with its code); evolve(state, event) folds an event into the state.
 * Pure: no clock, no ids, no I/O. What a decision needs from outside comes in through the command.
 *
 * Rules: {{a agg}} is created once; only an existing {{agg words}} can be closed; closing a closed {{agg words}}
 * again is accepted and changes nothing (a retried request). What an id may be is the context's (context.ts).
 */
import { BusinessRuleViolation, type Decider } from '@tidemark/sdk';
import type { {{Agg}}Command } from './commands';
import type { {{Agg}}Event } from './events';

export const {{NAME}}_NOT_FOUND = '{{NAME}}_NOT_FOUND';
export const {{NAME}}_ALREADY_EXISTS = '{{NAME}}_ALREADY_EXISTS';

/** What the decisions need to know about one {{agg words}}. Plain JSON: the processor snapshots it. */
export type {{Agg}}State = { status: 'absent' } | { status: 'open' } | { status: 'closed' };

function decide(command: {{Agg}}Command, state: {{Agg}}State): {{Agg}}Event[] {
  switch (command.type) {
    case 'Create{{Agg}}':
      if (state.status !== 'absent') {
        throw new BusinessRuleViolation({{NAME}}_ALREADY_EXISTS, 'this {{agg words}} has already been created');
      }
      return [{ type: '{{Agg}}Created', payload: { title: command.payload.title } }];
    case 'Close{{Agg}}':
      if (state.status === 'absent') {
        throw new BusinessRuleViolation({{NAME}}_NOT_FOUND, 'no such {{agg words}}');
      }
      // Already closed: the same intent again (a retry), so no second event.
      if (state.status === 'closed') return [];
      return [{ type: '{{Agg}}Closed', payload: { reason: command.payload.reason } }];
  }
}

/**
 * Events are facts: evolve never refuses one. An event that makes no sense in the current state (the decider
 * never emits one) leaves the state as it is rather than stopping the rebuild of the partition.
 */
function evolve(state: {{Agg}}State, event: {{Agg}}Event): {{Agg}}State {
  switch (event.type) {
    case '{{Agg}}Created':
      return state.status === 'absent' ? { status: 'open' } : state;
    case '{{Agg}}Closed':
      return state.status === 'open' ? { status: 'closed' } : state;
  }
}

export const {{agg}}Decider: Decider<{{Agg}}Command, {{Agg}}Event, {{Agg}}State> = {
  initialState: () => ({ status: 'absent' }),
  decide,
  evolve,
};
