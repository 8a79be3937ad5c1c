/**
 * The ticket-detail and ticket-summary projections through ProjectionSpecification: the documents each event
 * sequence folds to (open, assignment, comments, resolution, reopen), the comment excerpt, idempotent re-apply,
 * events for a ticket never opened, poison payloads, and the definitions and their factories.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProjectionSpecification, type SpecEvent } from '@tidemark/sdk/testing';
import { type TicketEvent, ticketsContext } from '@tidemark/tickets';
import {
  COMMENT_EXCERPT_LENGTH,
  createTicketDetailProjection,
  excerpt,
  searchDocumentFromDetail,
  summaryFromDetail,
  TICKET_EVENT_TYPES,
  type TicketDetail,
  type TicketSummary,
  ticketDetailProjection,
  ticketProjections,
  ticketSearchProjection,
  ticketSummaryProjection,
} from '../src/index';
import { envelope } from './support/history';

type Given = SpecEvent<TicketEvent>;

const T = 'ticket-1';
const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();

const opened: Given = {
  type: 'TicketOpened',
  aggregateId: T,
  occurredAt: at(1),
  payload: {
    requesterId: 'customer-1',
    subject: 'Cannot log in',
    body: 'The new password is refused.',
    priority: 'urgent',
    tags: ['login', 'VIP'],
  },
};
const assignedToAna: Given = {
  type: 'TicketAssigned',
  aggregateId: T,
  occurredAt: at(2),
  payload: { agentId: 'agent-ana', previousAgentId: null, priority: 'urgent' },
};
const movedToBo: Given = {
  type: 'TicketAssigned',
  aggregateId: T,
  occurredAt: at(3),
  payload: { agentId: 'agent-bo', previousAgentId: 'agent-ana', priority: 'urgent' },
};
const commented = (second: number, body: string, internal = false): Given => ({
  type: 'TicketCommented',
  aggregateId: T,
  occurredAt: at(second),
  payload: { authorId: 'agent-bo', body, internal },
});
const resolvedByLead: Given = {
  type: 'TicketResolved',
  aggregateId: T,
  occurredAt: at(6),
  payload: {
    resolution: 'Unlocked the account.',
    resolvedBy: 'lead-cy',
    agentId: 'agent-bo',
    priority: 'urgent',
  },
};
const reopened: Given = {
  type: 'TicketReopened',
  aggregateId: T,
  occurredAt: at(7),
  payload: { reason: 'Locked again.', agentId: 'agent-bo', priority: 'urgent' },
};

const justOpened: TicketDetail = {
  id: T,
  requesterId: 'customer-1',
  subject: 'Cannot log in',
  body: 'The new password is refused.',
  priority: 'urgent',
  tags: ['login', 'VIP'],
  status: 'open',
  assigneeId: null,
  commentCount: 0,
  lastComment: null,
  resolution: null,
  reopenCount: 0,
  lastReopenReason: null,
  version: 1,
  openedAt: at(1),
  updatedAt: at(1),
};

const detail = ProjectionSpecification.for(ticketsContext, ticketDetailProjection);
const summary = ProjectionSpecification.for(ticketsContext, ticketSummaryProjection);

describe('ticket-detail projection', () => {
  test('definition: postgres, per ticket, every event, indexed on assignee and status', () => {
    assert.equal(ticketDetailProjection.name, 'ticket-detail');
    assert.equal(ticketDetailProjection.context, 'tickets');
    assert.equal(ticketDetailProjection.store, 'postgres');
    assert.equal(ticketDetailProjection.keyScope, 'aggregate');
    assert.equal(ticketDetailProjection.version, 1);
    assert.equal(ticketDetailProjection.failurePolicy, 'stop');
    assert.deepEqual(ticketDetailProjection.eventTypes, TICKET_EVENT_TYPES);
    assert.deepEqual(ticketDetailProjection.indexes, ['assigneeId', 'status']);
    const v2 = createTicketDetailProjection({ version: 2, failurePolicy: 'dead-letter' });
    assert.equal(v2.version, 2);
    assert.equal(v2.failurePolicy, 'dead-letter');
    const all = ticketProjections({ version: 3, failurePolicy: 'dead-letter' });
    for (const projection of [all.detail, all.agentWorkload, all.summary, all.search]) {
      assert.equal(projection.version, 3, projection.name);
      assert.equal(projection.failurePolicy, 'dead-letter', projection.name);
    }
  });

  test('given TicketOpened, then an open unassigned ticket with every field', () => {
    detail.given([opened]).then(T, justOpened);
  });

  test('given assignments, comments and a resolution by someone else, then the resolved ticket', () => {
    detail
      .given([
        opened,
        assignedToAna,
        movedToBo,
        commented(4, 'Screenshot please.'),
        commented(5, 'Known bug.', true),
        resolvedByLead,
      ])
      .then(T, {
        ...justOpened,
        status: 'resolved',
        assigneeId: 'agent-bo',
        commentCount: 2,
        lastComment: { authorId: 'agent-bo', excerpt: 'Known bug.', internal: true, at: at(5) },
        resolution: { text: 'Unlocked the account.', resolvedBy: 'lead-cy', at: at(6) },
        version: 6,
        updatedAt: at(6),
      });
  });

  test('given a reopen, then open again with the same agent, no resolution and the reason', () => {
    detail.given([opened, assignedToAna, movedToBo, resolvedByLead, reopened]).then(T, {
      ...justOpened,
      assigneeId: 'agent-bo',
      reopenCount: 1,
      lastReopenReason: 'Locked again.',
      version: 5,
      updatedAt: at(7),
    });
  });

  test('a long comment is cut to an excerpt on code points, never through a surrogate pair', () => {
    const long = `${'x'.repeat(COMMENT_EXCERPT_LENGTH - 2)}😀😀😀 and more`;
    const doc = detail.given([opened, commented(2, long)]).document(T);
    const kept = doc?.lastComment?.excerpt ?? '';
    assert.equal(kept, `${'x'.repeat(COMMENT_EXCERPT_LENGTH - 2)}😀…`);
    assert.equal(Array.from(kept).length, COMMENT_EXCERPT_LENGTH);
  });

  test('another ticket is another document', () => {
    detail
      .given([opened, { ...assignedToAna, aggregateId: 'ticket-2' }])
      .then('ticket-2', null)
      .then(T, justOpened);
  });

  test('an event for a ticket never opened leaves no document', () => {
    detail.given([assignedToAna]).then(T, null);
  });

  test('a second TicketOpened (never emitted) does not reset the ticket; detail, summary and search agree', () => {
    const again: Given = {
      ...opened,
      occurredAt: at(3),
      payload: { requesterId: 'customer-2', subject: 'Other', body: 'Other.', priority: 'low', tags: [] },
    };
    detail.given([opened, assignedToAna, again]).then(T, {
      ...justOpened,
      assigneeId: 'agent-ana',
      version: 3,
      updatedAt: at(3),
    });
    summary.given([opened, assignedToAna, again]).then(T, {
      id: T,
      subject: 'Cannot log in',
      status: 'open',
      priority: 'urgent',
      assigneeId: 'agent-ana',
      version: 3,
    });
    const search = ProjectionSpecification.for(ticketsContext, ticketSearchProjection).given([
      opened,
      assignedToAna,
      again,
    ]);
    const folded = detail.given([opened, assignedToAna, again]).document(T);
    assert.ok(folded);
    search.then(T, searchDocumentFromDetail(folded));
  });

  test('applying an event again, or an older one, changes nothing', () => {
    const e1 = envelope(0, T, 1, 'TicketOpened', opened.payload);
    const e2 = envelope(1, T, 2, 'TicketAssigned', assignedToAna.payload);
    const once = ticketDetailProjection.apply(ticketDetailProjection.apply(null, e1, T), e2, T);
    assert.equal(once?.assigneeId, 'agent-ana');
    assert.equal(ticketDetailProjection.apply(once, e2, T), once);
    assert.equal(ticketDetailProjection.apply(once, e1, T), once);
  });

  test('a payload that does not match its schema throws (a poison event for the failure policy)', () => {
    assert.throws(
      () => ticketDetailProjection.apply(null, envelope(0, T, 1, 'TicketOpened', { subject: 'x' }), T),
      (error: { code?: string }) => error.code === 'EVENT_UNREADABLE',
    );
  });
});

describe('excerpt', () => {
  test('keeps a text of at most the limit as it is, cuts a longer one with an ellipsis', () => {
    assert.equal(excerpt('short', 5), 'short');
    assert.equal(excerpt('😀😀😀😀😀', 5), '😀😀😀😀😀');
    assert.equal(excerpt('😀😀😀😀😀😀', 5), '😀😀😀😀…');
    assert.equal(excerpt('abc   defgh', 5), 'abc…');
  });
});

describe('ticket-summary projection', () => {
  test('definition: memcached, per ticket, every event (its version is the detail version)', () => {
    assert.equal(ticketSummaryProjection.name, 'ticket-summary');
    assert.equal(ticketSummaryProjection.store, 'memcached');
    assert.equal(ticketSummaryProjection.keyScope, 'aggregate');
    assert.deepEqual(ticketSummaryProjection.eventTypes, TICKET_EVENT_TYPES);
  });

  test('given open, assignment, a comment and a resolution, then the small card', () => {
    const expected: TicketSummary = {
      id: T,
      subject: 'Cannot log in',
      status: 'resolved',
      priority: 'urgent',
      assigneeId: 'agent-bo',
      version: 5,
    };
    summary.given([opened, assignedToAna, movedToBo, commented(4, 'Hi'), resolvedByLead]).then(T, expected);
    summary.given([opened]).then(T, { ...expected, status: 'open', assigneeId: null, version: 1 });
  });

  test('summaryFromDetail gives the card of a detail', () => {
    const events = [opened, assignedToAna, movedToBo, resolvedByLead, reopened];
    const folded = detail.given(events).document(T);
    assert.ok(folded);
    summary.given(events).then(T, summaryFromDetail(folded));
  });

  test('an event for a ticket never opened leaves no card', () => {
    summary.given([movedToBo]).then(T, null);
  });
});
