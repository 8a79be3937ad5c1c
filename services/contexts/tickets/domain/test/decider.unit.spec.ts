/**
 * The tickets decider, command by command and rule by rule, in Given/When/Then: what each accepted command emits
 * (checked against the latest event schemas too), each refusal's code, the no-ops, and the state evolve folds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContextDefinition } from '@tidemark/sdk';
import { DeciderSpecification } from '@tidemark/sdk/testing';
import {
  MAX_REOPENS,
  type OpenTicket,
  REOPEN_LIMIT,
  TICKET_ALREADY_EXISTS,
  TICKET_ID_INVALID,
  TICKET_NOT_FOUND,
  TICKET_NOT_RESOLVED,
  TICKET_RESOLVED,
  TICKET_UNASSIGNED,
  type TicketEvent,
  ticketDecider,
  ticketEvents,
  ticketsContext,
} from '../src/index';

// Every emitted event is also checked against the latest schema of its type.
const spec = DeciderSpecification.for(ticketDecider, { events: ticketEvents });

const open: OpenTicket = {
  requesterId: 'customer-1',
  subject: 'Cannot log in',
  body: 'The new password is refused.',
  priority: 'high',
  tags: ['login'],
};
const opened: TicketEvent = { type: 'TicketOpened', payload: open };
const assignedToAna: TicketEvent = {
  type: 'TicketAssigned',
  payload: { agentId: 'agent-ana', previousAgentId: null, priority: 'high' },
};
const movedToBo: TicketEvent = {
  type: 'TicketAssigned',
  payload: { agentId: 'agent-bo', previousAgentId: 'agent-ana', priority: 'high' },
};
const resolvedByAna: TicketEvent = {
  type: 'TicketResolved',
  payload: {
    resolution: 'Unlocked the account.',
    resolvedBy: 'agent-ana',
    agentId: 'agent-ana',
    priority: 'high',
  },
};
const reopenedForAna: TicketEvent = {
  type: 'TicketReopened',
  payload: { reason: 'Locked again.', agentId: 'agent-ana', priority: 'high' },
};

/** An assigned ticket resolved and reopened `times` times, ending resolved. */
function resolvedAfterReopens(times: number): TicketEvent[] {
  const history = [opened, assignedToAna, resolvedByAna];
  for (let i = 0; i < times; i++) history.push(reopenedForAna, resolvedByAna);
  return history;
}

const comment = { authorId: 'agent-ana', body: 'Could you send a screenshot?', internal: false };

describe('OpenTicket', () => {
  test('opens a ticket with everything it was given', () => {
    spec.given([]).when({ type: 'OpenTicket', payload: open }).then([opened]);
  });

  test('the opened ticket is open, unassigned, never reopened, with its priority', () => {
    spec
      .given([])
      .when({ type: 'OpenTicket', payload: open })
      .thenState({ status: 'open', priority: 'high', assigneeId: null, reopenCount: 0 });
  });

  test('the ticket id (the aggregate id) must be a storable token: it keys every view', () => {
    for (const aggregateId of ['', 'two words', 'nul\u0000', 'lone \uD83D', 'bell\u0007', 'x'.repeat(201)]) {
      spec
        .given([])
        .when({ type: 'OpenTicket', payload: open, context: { aggregateId } })
        .thenThrows(TICKET_ID_INVALID);
    }
    for (const aggregateId of [
      'T-2025-0001',
      '0190d6c4-7b1e-7000-8000-000000000001',
      'tïcket-😀',
      'x'.repeat(200),
    ]) {
      spec.given([]).when({ type: 'OpenTicket', payload: open, context: { aggregateId } }).then([opened]);
    }
  });

  test('cannot open a ticket twice, whatever became of it', () => {
    for (const history of [[opened], [opened, assignedToAna, resolvedByAna], resolvedAfterReopens(1)]) {
      spec.given(history).when({ type: 'OpenTicket', payload: open }).thenThrows(TICKET_ALREADY_EXISTS);
    }
  });
});

describe('AssignTicket', () => {
  test('the first assignment leaves nobody and carries the priority', () => {
    spec
      .given([opened])
      .when({ type: 'AssignTicket', payload: { agentId: 'agent-ana' } })
      .then([assignedToAna]);
  });

  test('a reassignment names the agent the ticket leaves', () => {
    spec
      .given([opened, assignedToAna])
      .when({ type: 'AssignTicket', payload: { agentId: 'agent-bo' } })
      .then([movedToBo]);
  });

  test('assigning the agent the ticket already has is a no-op', () => {
    spec
      .given([opened, assignedToAna])
      .when({ type: 'AssignTicket', payload: { agentId: 'agent-ana' } })
      .thenNothingHappened();
    spec
      .given([opened, assignedToAna, movedToBo])
      .when({ type: 'AssignTicket', payload: { agentId: 'agent-bo' } })
      .thenNothingHappened();
  });

  test('the no-op compares with the current assignee, not the first one', () => {
    spec
      .given([opened, assignedToAna, movedToBo])
      .when({ type: 'AssignTicket', payload: { agentId: 'agent-ana' } })
      .then([
        {
          type: 'TicketAssigned',
          payload: { agentId: 'agent-ana', previousAgentId: 'agent-bo', priority: 'high' },
        },
      ]);
  });

  test('the assignee becomes the state', () => {
    spec
      .given([opened, assignedToAna])
      .when({ type: 'AssignTicket', payload: { agentId: 'agent-bo' } })
      .thenState({ status: 'open', priority: 'high', assigneeId: 'agent-bo', reopenCount: 0 });
  });

  test('a resolved ticket cannot be assigned, not even to its own agent', () => {
    for (const agentId of ['agent-bo', 'agent-ana']) {
      spec
        .given([opened, assignedToAna, resolvedByAna])
        .when({ type: 'AssignTicket', payload: { agentId } })
        .thenThrows(TICKET_RESOLVED);
    }
  });

  test('a reopened ticket can be reassigned', () => {
    spec
      .given([opened, assignedToAna, resolvedByAna, reopenedForAna])
      .when({ type: 'AssignTicket', payload: { agentId: 'agent-bo' } })
      .then([movedToBo]);
  });

  test('a ticket that was never opened is not found', () => {
    spec
      .given([])
      .when({ type: 'AssignTicket', payload: { agentId: 'agent-ana' } })
      .thenThrows(TICKET_NOT_FOUND);
  });
});

describe('CommentOnTicket', () => {
  test('emits the comment, public or internal, assigned or not', () => {
    spec
      .given([opened])
      .when({ type: 'CommentOnTicket', payload: comment })
      .then([{ type: 'TicketCommented', payload: comment }]);
    const note = { authorId: 'agent-bo', body: 'Known bug.', internal: true };
    spec
      .given([opened, assignedToAna])
      .when({ type: 'CommentOnTicket', payload: note })
      .then([{ type: 'TicketCommented', payload: note }]);
  });

  test('a comment does not change the state', () => {
    spec
      .given([opened, assignedToAna])
      .when({ type: 'CommentOnTicket', payload: comment })
      .thenState({ status: 'open', priority: 'high', assigneeId: 'agent-ana', reopenCount: 0 });
  });

  test('a resolved ticket takes no comment; a reopened one does', () => {
    spec
      .given([opened, assignedToAna, resolvedByAna])
      .when({ type: 'CommentOnTicket', payload: comment })
      .thenThrows(TICKET_RESOLVED);
    spec
      .given([opened, assignedToAna, resolvedByAna, reopenedForAna])
      .when({ type: 'CommentOnTicket', payload: comment })
      .then([{ type: 'TicketCommented', payload: comment }]);
  });

  test('a ticket that was never opened is not found', () => {
    spec.given([]).when({ type: 'CommentOnTicket', payload: comment }).thenThrows(TICKET_NOT_FOUND);
  });
});

describe('ResolveTicket', () => {
  test('emits the resolution with the assignee and the priority', () => {
    spec
      .given([opened, assignedToAna])
      .when({
        type: 'ResolveTicket',
        payload: { resolution: 'Unlocked the account.', resolvedBy: 'agent-ana' },
      })
      .then([resolvedByAna]);
  });

  test('someone else may resolve it: the ticket still counts for its assignee', () => {
    spec
      .given([opened, assignedToAna, movedToBo])
      .when({ type: 'ResolveTicket', payload: { resolution: 'Duplicate.', resolvedBy: 'lead-cy' } })
      .then([
        {
          type: 'TicketResolved',
          payload: { resolution: 'Duplicate.', resolvedBy: 'lead-cy', agentId: 'agent-bo', priority: 'high' },
        },
      ]);
  });

  test('the resolved ticket keeps its assignee', () => {
    spec
      .given([opened, assignedToAna])
      .when({ type: 'ResolveTicket', payload: { resolution: 'Done.', resolvedBy: 'agent-ana' } })
      .thenState({ status: 'resolved', priority: 'high', assigneeId: 'agent-ana', reopenCount: 0 });
  });

  test('an unassigned ticket cannot be resolved', () => {
    spec
      .given([opened])
      .when({ type: 'ResolveTicket', payload: { resolution: 'Done.', resolvedBy: 'agent-ana' } })
      .thenThrows(TICKET_UNASSIGNED);
  });

  test('a resolved ticket cannot be resolved again', () => {
    spec
      .given([opened, assignedToAna, resolvedByAna])
      .when({ type: 'ResolveTicket', payload: { resolution: 'Done.', resolvedBy: 'agent-ana' } })
      .thenThrows(TICKET_RESOLVED);
  });

  test('a ticket that was never opened is not found', () => {
    spec
      .given([])
      .when({ type: 'ResolveTicket', payload: { resolution: 'Done.', resolvedBy: 'agent-ana' } })
      .thenThrows(TICKET_NOT_FOUND);
  });
});

describe('ReopenTicket', () => {
  test('emits the reason with the assignee and the priority', () => {
    spec
      .given([opened, assignedToAna, resolvedByAna])
      .when({ type: 'ReopenTicket', payload: { reason: 'Locked again.' } })
      .then([reopenedForAna]);
  });

  test('the reopened ticket is open again, assigned, counting the reopen', () => {
    spec
      .given([opened, assignedToAna, resolvedByAna])
      .when({ type: 'ReopenTicket', payload: { reason: 'Locked again.' } })
      .thenState({ status: 'open', priority: 'high', assigneeId: 'agent-ana', reopenCount: 1 });
  });

  test('an open ticket cannot be reopened', () => {
    for (const history of [[opened], [opened, assignedToAna], [...resolvedAfterReopens(0), reopenedForAna]]) {
      spec
        .given(history)
        .when({ type: 'ReopenTicket', payload: { reason: 'x' } })
        .thenThrows(TICKET_NOT_RESOLVED);
    }
  });

  test(`a ticket is reopened at most ${MAX_REOPENS} times`, () => {
    assert.equal(MAX_REOPENS, 3);
    for (let times = 0; times < MAX_REOPENS; times++) {
      spec
        .given(resolvedAfterReopens(times))
        .when({ type: 'ReopenTicket', payload: { reason: 'Locked again.' } })
        .then([reopenedForAna]);
    }
    spec
      .given(resolvedAfterReopens(MAX_REOPENS))
      .when({ type: 'ReopenTicket', payload: { reason: 'Again.' } })
      .thenThrows(REOPEN_LIMIT);
  });

  test('a ticket that was never opened is not found', () => {
    spec
      .given([])
      .when({ type: 'ReopenTicket', payload: { reason: 'x' } })
      .thenThrows(TICKET_NOT_FOUND);
  });
});

describe('evolve', () => {
  test('never refuses an event, even one that makes no sense in the state', () => {
    const absent = ticketDecider.initialState();
    for (const event of [assignedToAna, resolvedByAna, reopenedForAna]) {
      assert.deepEqual(ticketDecider.evolve(absent, event), { status: 'absent' });
    }
    const open = ticketDecider.evolve(absent, opened);
    assert.deepEqual(ticketDecider.evolve(open, reopenedForAna), open);
    assert.deepEqual(ticketDecider.evolve(open, opened), open);
  });

  test('an unknown command type (nobody registered it) fails loudly', () => {
    // The platform holds the erased definition; this is how a command of an unregistered type would reach it.
    const erased: ContextDefinition = ticketsContext;
    const command = {
      type: 'Nope',
      payload: {},
      context: { commandId: 'c', aggregateId: 'a', receivedAt: '' },
    };
    assert.throws(
      () => erased.decider.decide(command, erased.decider.initialState()),
      /unhandled message type 'Nope'/,
    );
  });
});
