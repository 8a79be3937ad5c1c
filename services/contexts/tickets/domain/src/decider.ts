/**
 * The tickets decider. Rules: a ticket is opened once; a resolved ticket takes no assignment or comment until it
 * is reopened; only an assigned open ticket can be resolved; only a resolved ticket can be reopened, at most
 * MAX_REOPENS times. Assigning the agent a ticket already has is accepted and changes nothing. A ticket's id
 * (the aggregate id) must be a token every view store can key by; checked on opening, the one command that
 * can create a ticket.
 */
import { BusinessRuleViolation, type Decider, unhandled } from '@tidemark/sdk';
import type { TicketCommand } from './commands';
import type { TicketEvent } from './events';
import { ABSENT_TICKET, type TicketState } from './state';
import { TicketId } from './values';

export const TICKET_NOT_FOUND = 'TICKET_NOT_FOUND';
export const TICKET_ALREADY_EXISTS = 'TICKET_ALREADY_EXISTS';
export const TICKET_RESOLVED = 'TICKET_RESOLVED';
export const TICKET_NOT_RESOLVED = 'TICKET_NOT_RESOLVED';
export const TICKET_UNASSIGNED = 'TICKET_UNASSIGNED';
export const REOPEN_LIMIT = 'REOPEN_LIMIT';
export const TICKET_ID_INVALID = 'TICKET_ID_INVALID';

/** How many times a ticket may be reopened: past that, the requester opens a new one. */
export const MAX_REOPENS = 3;

type ExistingTicket = Exclude<TicketState, { status: 'absent' }>;
type OpenTicketState = Extract<TicketState, { status: 'open' }>;

function requireExisting(state: TicketState): ExistingTicket {
  if (state.status === 'absent') throw new BusinessRuleViolation(TICKET_NOT_FOUND, 'no such ticket');
  return state;
}

function requireOpen(state: TicketState): OpenTicketState {
  const ticket = requireExisting(state);
  if (ticket.status === 'resolved') {
    throw new BusinessRuleViolation(TICKET_RESOLVED, 'the ticket is resolved; reopen it first');
  }
  return ticket;
}

function decide(command: TicketCommand, state: TicketState): TicketEvent[] {
  switch (command.type) {
    case 'OpenTicket': {
      if (state.status !== 'absent') {
        throw new BusinessRuleViolation(TICKET_ALREADY_EXISTS, 'this ticket has already been opened');
      }
      if (!TicketId.safeParse(command.context.aggregateId).success) {
        throw new BusinessRuleViolation(
          TICKET_ID_INVALID,
          'a ticket id is 1 to 200 characters without white space, control characters or unpaired surrogates',
        );
      }
      const { requesterId, subject, body, priority, tags } = command.payload;
      return [{ type: 'TicketOpened', payload: { requesterId, subject, body, priority, tags } }];
    }
    case 'AssignTicket': {
      const ticket = requireOpen(state);
      const { agentId } = command.payload;
      // The same agent again is a retried or duplicated intent: no event, so counters and views do not churn.
      if (agentId === ticket.assigneeId) return [];
      return [
        {
          type: 'TicketAssigned',
          payload: { agentId, previousAgentId: ticket.assigneeId, priority: ticket.priority },
        },
      ];
    }
    case 'CommentOnTicket': {
      requireOpen(state);
      const { authorId, body, internal } = command.payload;
      return [{ type: 'TicketCommented', payload: { authorId, body, internal } }];
    }
    case 'ResolveTicket': {
      const ticket = requireOpen(state);
      if (ticket.assigneeId === null) {
        throw new BusinessRuleViolation(TICKET_UNASSIGNED, 'assign the ticket before resolving it');
      }
      const { resolution, resolvedBy } = command.payload;
      return [
        {
          type: 'TicketResolved',
          payload: { resolution, resolvedBy, agentId: ticket.assigneeId, priority: ticket.priority },
        },
      ];
    }
    case 'ReopenTicket': {
      const ticket = requireExisting(state);
      if (ticket.status !== 'resolved') {
        throw new BusinessRuleViolation(TICKET_NOT_RESOLVED, 'only a resolved ticket can be reopened');
      }
      if (ticket.reopenCount >= MAX_REOPENS) {
        throw new BusinessRuleViolation(
          REOPEN_LIMIT,
          `a ticket can be reopened at most ${MAX_REOPENS} times; open a new one`,
        );
      }
      return [
        {
          type: 'TicketReopened',
          payload: { reason: command.payload.reason, agentId: ticket.assigneeId, priority: ticket.priority },
        },
      ];
    }
    default:
      return unhandled(command);
  }
}

/**
 * Events are facts: evolve never refuses one. An event that makes no sense in the current state (which the
 * decider never emits) leaves the state as it is rather than stopping the partition's rebuild.
 */
function evolve(state: TicketState, event: TicketEvent): TicketState {
  switch (event.type) {
    case 'TicketOpened':
      if (state.status !== 'absent') return state;
      return { status: 'open', priority: event.payload.priority, assigneeId: null, reopenCount: 0 };
    case 'TicketAssigned':
      return state.status === 'open' ? { ...state, assigneeId: event.payload.agentId } : state;
    case 'TicketCommented':
      return state;
    case 'TicketResolved':
      if (state.status !== 'open') return state;
      // The event names the assignee: the state takes it from there rather than trusting its own nullable one.
      return { ...state, status: 'resolved', assigneeId: event.payload.agentId };
    case 'TicketReopened':
      if (state.status !== 'resolved') return state;
      return { ...state, status: 'open', reopenCount: state.reopenCount + 1 };
    default:
      return unhandled(event);
  }
}

export const ticketDecider: Decider<TicketCommand, TicketEvent, TicketState> = {
  initialState: () => ABSENT_TICKET,
  decide,
  evolve,
};
