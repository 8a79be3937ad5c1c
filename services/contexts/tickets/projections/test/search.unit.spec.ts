/**
 * The ticket-search projection: its index mappings (every document field mapped, the SDK helpers, a lowercase
 * multi-field on each filtered field) and the flat document each event sequence folds to, through
 * ProjectionSpecification.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizedField, type SearchFieldMapping } from '@tidemark/sdk';
import { ProjectionSpecification, type SpecEvent } from '@tidemark/sdk/testing';
import { type TicketEvent, ticketsContext } from '@tidemark/tickets';
import {
  createTicketSearchProjection,
  PRIORITY_RANK,
  TICKET_EVENT_TYPES,
  TICKET_SEARCH_MAPPINGS,
  type TicketSearchDocument,
  ticketSearchProjection,
} from '../src/index';

type Given = SpecEvent<TicketEvent>;

const T = 'ticket-1';
const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();
const spec = ProjectionSpecification.for(ticketsContext, ticketSearchProjection);

const opened: Given = {
  type: 'TicketOpened',
  aggregateId: T,
  occurredAt: at(1),
  payload: {
    requesterId: 'customer-1',
    subject: 'Export slow',
    body: 'CSV export times out.',
    priority: 'high',
    tags: ['Export'],
  },
};
const assigned: Given = {
  type: 'TicketAssigned',
  aggregateId: T,
  occurredAt: at(2),
  payload: { agentId: 'agent-ana', previousAgentId: null, priority: 'high' },
};
const commented: Given = {
  type: 'TicketCommented',
  aggregateId: T,
  occurredAt: at(3),
  payload: { authorId: 'agent-ana', body: 'Looking.', internal: false },
};
const resolved: Given = {
  type: 'TicketResolved',
  aggregateId: T,
  occurredAt: at(4),
  payload: {
    resolution: 'Raised the timeout.',
    resolvedBy: 'agent-ana',
    agentId: 'agent-ana',
    priority: 'high',
  },
};
const reopened: Given = {
  type: 'TicketReopened',
  aggregateId: T,
  occurredAt: at(5),
  payload: { reason: 'Still slow.', agentId: 'agent-ana', priority: 'high' },
};

const justOpened: TicketSearchDocument = {
  id: T,
  requesterId: 'customer-1',
  subject: 'Export slow',
  body: 'CSV export times out.',
  status: 'open',
  priority: 'high',
  priorityRank: 3,
  assigneeId: null,
  assignment: 'unassigned',
  tags: ['Export'],
  commentCount: 0,
  reopenCount: 0,
  openedAt: at(1),
  updatedAt: at(1),
  resolvedAt: null,
  version: 1,
};

describe('ticket-search projection', () => {
  test('definition: elasticsearch, per ticket, every event, with index mappings', () => {
    assert.equal(ticketSearchProjection.name, 'ticket-search');
    assert.equal(ticketSearchProjection.context, 'tickets');
    assert.equal(ticketSearchProjection.store, 'elasticsearch');
    assert.equal(ticketSearchProjection.keyScope, 'aggregate');
    assert.equal(ticketSearchProjection.version, 1);
    assert.deepEqual(ticketSearchProjection.eventTypes, TICKET_EVENT_TYPES);
    assert.equal(ticketSearchProjection.search?.mappings, TICKET_SEARCH_MAPPINGS);
    assert.equal(createTicketSearchProjection({ version: 2 }).version, 2);
  });

  test('mappings: every document field mapped, text for subject and body, lowercase filters', () => {
    const mappings: Record<string, SearchFieldMapping | undefined> = TICKET_SEARCH_MAPPINGS;
    // Nothing is left to dynamic mapping, which would guess types from the first document.
    assert.deepEqual(Object.keys(mappings).sort(), Object.keys(justOpened).sort());
    assert.deepEqual(mappings.subject, {
      type: 'text',
      analyzer: 'standard',
      fields: { raw: { type: 'keyword' } },
    });
    assert.deepEqual(mappings.body, { type: 'text', analyzer: 'standard' });
    for (const field of ['status', 'priority', 'assigneeId', 'tags']) {
      assert.equal(mappings[field]?.type, 'keyword', field);
      assert.equal(normalizedField(TICKET_SEARCH_MAPPINGS, field, 'lowercase'), `${field}.lowercase`, field);
    }
    for (const field of ['id', 'requesterId', 'assignment'])
      assert.deepEqual(mappings[field], { type: 'keyword' }, field);
    for (const field of ['openedAt', 'updatedAt', 'resolvedAt'])
      assert.equal(mappings[field]?.type, 'date', field);
    for (const field of ['version', 'commentCount']) assert.equal(mappings[field]?.type, 'long', field);
    for (const field of ['priorityRank', 'reopenCount'])
      assert.equal(mappings[field]?.type, 'integer', field);
  });

  test('priority ranks sort by urgency', () => {
    assert.ok(PRIORITY_RANK.low < PRIORITY_RANK.normal);
    assert.ok(PRIORITY_RANK.normal < PRIORITY_RANK.high);
    assert.ok(PRIORITY_RANK.high < PRIORITY_RANK.urgent);
  });

  test('given TicketOpened, then an open unassigned flat document', () => {
    spec.given([opened]).then(T, justOpened);
  });

  test('given assignment, a comment and a resolution, then resolved with its time', () => {
    spec.given([opened, assigned, commented, resolved]).then(T, {
      ...justOpened,
      status: 'resolved',
      assigneeId: 'agent-ana',
      assignment: 'assigned',
      commentCount: 1,
      resolvedAt: at(4),
      updatedAt: at(4),
      version: 4,
    });
  });

  test('given a reopen, then open again, still assigned, with no resolution time', () => {
    spec.given([opened, assigned, resolved, reopened]).then(T, {
      ...justOpened,
      assigneeId: 'agent-ana',
      assignment: 'assigned',
      reopenCount: 1,
      updatedAt: at(5),
      version: 4,
    });
  });

  test('an event for a ticket never opened leaves no document', () => {
    spec.given([assigned, resolved]).then(T, null);
  });

  test('applying an event again, or an older one, changes nothing', () => {
    const then = spec.given([opened, assigned]);
    const doc = then.document(T);
    const [first, second] = then.log;
    assert.ok(doc && first && second);
    assert.equal(ticketSearchProjection.apply(doc, second.event, T), doc);
    assert.equal(ticketSearchProjection.apply(doc, first.event, T), doc);
  });
});
