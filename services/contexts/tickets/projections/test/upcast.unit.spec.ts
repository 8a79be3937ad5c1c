/**
 * The upcast path on the read side: a TicketOpened stored at schema v1 (before tags) is read by each projection
 * through the context's registry as v2 with no tags, alone and followed by later events; an unreadable v1
 * payload is a poison event.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type LogEntry, ProjectionThen } from '@tidemark/sdk/testing';
import {
  agentWorkloadProjection,
  ticketDetailProjection,
  ticketSearchProjection,
  ticketSummaryProjection,
} from '../src/index';
import { envelope } from './support/history';

const T = 'ticket-v1';
const v1Payload = {
  requesterId: 'customer-1',
  subject: 'Old ticket',
  body: 'From before tags.',
  priority: 'normal',
};

// Hand-made log entries: the specification builder writes every event at its latest version.
const openedV1: LogEntry = {
  partition: 0,
  offset: 0,
  event: envelope(0, T, 1, 'TicketOpened', v1Payload, 1),
};
const assignedV1Era: LogEntry = {
  partition: 0,
  offset: 1,
  event: envelope(1, T, 2, 'TicketAssigned', {
    agentId: 'agent-ana',
    previousAgentId: null,
    priority: 'normal',
  }),
};

describe('a v1 TicketOpened', () => {
  test('the detail has no tags and everything else from the v1 payload', () => {
    new ProjectionThen(ticketDetailProjection, [openedV1]).then(T, {
      id: T,
      ...v1Payload,
      priority: 'normal',
      tags: [],
      status: 'open',
      assigneeId: null,
      commentCount: 0,
      lastComment: null,
      resolution: null,
      reopenCount: 0,
      lastReopenReason: null,
      version: 1,
      openedAt: openedV1.event.occurredAt,
      updatedAt: openedV1.event.occurredAt,
    });
  });

  test('the summary, search and workload views read it and the events after it', () => {
    const log = [openedV1, assignedV1Era];
    new ProjectionThen(ticketSummaryProjection, log).then(T, {
      id: T,
      subject: 'Old ticket',
      status: 'open',
      priority: 'normal',
      assigneeId: 'agent-ana',
      version: 2,
    });
    const search = new ProjectionThen(ticketSearchProjection, log).document(T);
    assert.deepEqual(search?.tags, []);
    assert.equal(search?.assignment, 'assigned');
    assert.equal(new ProjectionThen(agentWorkloadProjection, log).document('agent-ana')?.open, 1);
  });

  test('apply sees the payload at v2 (the envelope as the runtime would hand it over)', () => {
    const doc = ticketDetailProjection.apply(null, openedV1.event, T);
    assert.deepEqual(doc?.tags, []);
    // The stored envelope is not changed by reading it.
    assert.equal(openedV1.event.schemaVersion, 1);
    assert.ok(!('tags' in v1Payload));
  });

  test('a v1 payload its schema refuses is a poison event', () => {
    const unreadable = envelope(0, T, 1, 'TicketOpened', { ...v1Payload, subject: 'a\u0000b' }, 1);
    assert.throws(
      () => ticketDetailProjection.apply(null, unreadable, T),
      (error: { code?: string }) => error.code === 'EVENT_UNREADABLE',
    );
  });
});
