/**
 * The agent-workload projection (Redis, gathered over partitions) through ProjectionSpecification: which agents
 * an event concerns (two on a reassignment), the per-partition sub-documents and their merge when one agent's
 * tickets live on several partitions, an agent back at zero keeping a document, and the merge itself.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProjectionSpecification, referenceFold, type SpecEvent } from '@tidemark/sdk/testing';
import { type TicketEvent, ticketsContext } from '@tidemark/tickets';
import {
  type AgentWorkload,
  agentWorkloadProjection,
  emptyAgentWorkload,
  mergeAgentWorkload,
  WORKLOAD_EVENT_TYPES,
} from '../src/index';
import { envelope } from './support/history';

type Given = SpecEvent<TicketEvent>;

const spec = ProjectionSpecification.for(ticketsContext, agentWorkloadProjection);

const zero = { low: 0, normal: 0, high: 0, urgent: 0 };

const opened = (
  ticket: string,
  partition: number,
  priority: 'low' | 'normal' | 'high' | 'urgent',
): Given => ({
  type: 'TicketOpened',
  aggregateId: ticket,
  partition,
  payload: { requesterId: 'customer-1', subject: 'Help', body: 'Please.', priority, tags: [] },
});
const assigned = (
  ticket: string,
  partition: number,
  priority: 'low' | 'normal' | 'high' | 'urgent',
  agentId: string,
  previousAgentId: string | null = null,
): Given => ({
  type: 'TicketAssigned',
  aggregateId: ticket,
  partition,
  payload: { agentId, previousAgentId, priority },
});
const resolved = (
  ticket: string,
  partition: number,
  priority: 'low' | 'normal' | 'high' | 'urgent',
  agentId: string,
): Given => ({
  type: 'TicketResolved',
  aggregateId: ticket,
  partition,
  payload: { resolution: 'Done.', resolvedBy: agentId, agentId, priority },
});
const reopened = (
  ticket: string,
  partition: number,
  priority: 'low' | 'normal' | 'high' | 'urgent',
  agentId: string,
): Given => ({
  type: 'TicketReopened',
  aggregateId: ticket,
  partition,
  payload: { reason: 'Again.', agentId, priority },
});

describe('agent-workload projection', () => {
  test('definition: redis, gathered over partitions, the three events that move tickets, with a merge', () => {
    assert.equal(agentWorkloadProjection.name, 'agent-workload');
    assert.equal(agentWorkloadProjection.store, 'redis');
    assert.equal(agentWorkloadProjection.keyScope, 'all');
    assert.deepEqual(agentWorkloadProjection.eventTypes, WORKLOAD_EVENT_TYPES);
    assert.equal(typeof agentWorkloadProjection.merge, 'function');
  });

  test('keys: the new agent, plus the agent a reassignment leaves; the assignee of a resolve or reopen', () => {
    const keys = (type: string, payload: unknown) =>
      agentWorkloadProjection.keys(envelope(0, 't', 2, type, payload));
    assert.deepEqual(
      keys('TicketAssigned', { agentId: 'agent-ana', previousAgentId: null, priority: 'low' }),
      ['agent-ana'],
    );
    assert.deepEqual(
      keys('TicketAssigned', { agentId: 'agent-bo', previousAgentId: 'agent-ana', priority: 'low' }),
      ['agent-ana', 'agent-bo'],
    );
    const resolution = { resolution: 'Done.', resolvedBy: 'lead-cy', agentId: 'agent-bo', priority: 'low' };
    assert.deepEqual(keys('TicketResolved', resolution), ['agent-bo']);
    assert.deepEqual(keys('TicketReopened', { reason: 'x', agentId: 'agent-bo', priority: 'low' }), [
      'agent-bo',
    ]);
    assert.deepEqual(keys('TicketCommented', { authorId: 'agent-bo', body: 'x', internal: false }), []);
    const opening = { requesterId: 'c', subject: 's', body: 'b', priority: 'low', tags: [] };
    assert.deepEqual(agentWorkloadProjection.keys(envelope(0, 't', 1, 'TicketOpened', opening)), []);
  });

  test('given one agent’s tickets on several partitions, then the merged counters of every partition', () => {
    const then = spec.given([
      opened('t-1', 0, 'urgent'),
      opened('t-2', 1, 'high'),
      opened('t-3', 2, 'low'),
      opened('t-4', 1, 'high'),
      assigned('t-1', 0, 'urgent', 'agent-ana'),
      assigned('t-2', 1, 'high', 'agent-ana'),
      assigned('t-3', 2, 'low', 'agent-bo'),
      assigned('t-4', 1, 'high', 'agent-bo'),
      // t-1 moves from ana to bo: one event, two agents' counters.
      assigned('t-1', 0, 'urgent', 'agent-bo', 'agent-ana'),
      resolved('t-2', 1, 'high', 'agent-ana'),
      resolved('t-3', 2, 'low', 'agent-bo'),
      reopened('t-3', 2, 'low', 'agent-bo'),
      resolved('t-4', 1, 'high', 'agent-bo'),
    ]);
    then.then('agent-ana', { agentId: 'agent-ana', open: 0, openByPriority: zero, resolved: 1 });
    then.then('agent-bo', {
      agentId: 'agent-bo',
      open: 2,
      openByPriority: { ...zero, urgent: 1, low: 1 },
      resolved: 1,
    });
    // bo's counters really are gathered: each of the three partitions holds a share of them.
    const fold = referenceFold(agentWorkloadProjection, then.log);
    const shares = [0, 1, 2].map((partition) => fold.get(partition)?.get('agent-bo')?.doc ?? null);
    assert.deepEqual(shares, [
      { agentId: 'agent-bo', open: 1, openByPriority: { ...zero, urgent: 1 }, resolved: 0 },
      { agentId: 'agent-bo', open: 0, openByPriority: zero, resolved: 1 },
      { agentId: 'agent-bo', open: 1, openByPriority: { ...zero, low: 1 }, resolved: 0 },
    ]);
  });

  test('an agent whose tickets all moved on keeps a document at zero; an agent never assigned has none', () => {
    spec
      .given([
        opened('t-1', 0, 'normal'),
        assigned('t-1', 0, 'normal', 'agent-ana'),
        assigned('t-1', 0, 'normal', 'agent-bo', 'agent-ana'),
      ])
      .then('agent-ana', emptyAgentWorkload('agent-ana'))
      .then('agent-bo', { agentId: 'agent-bo', open: 1, openByPriority: { ...zero, normal: 1 }, resolved: 0 })
      .then('agent-nobody', null);
  });

  test('agent ids are exact: one differing only in case is another agent', () => {
    spec
      .given([opened('t-1', 0, 'low'), assigned('t-1', 0, 'low', 'Agent-Ana')])
      .then('agent-ana', null)
      .then('Agent-Ana', { agentId: 'Agent-Ana', open: 1, openByPriority: { ...zero, low: 1 }, resolved: 0 });
  });
});

describe('mergeAgentWorkload', () => {
  test('sums every counter of the parts', () => {
    const parts: AgentWorkload[] = [
      { agentId: 'a', open: 3, openByPriority: { low: 1, normal: 0, high: 2, urgent: 0 }, resolved: 4 },
      { agentId: 'a', open: 1, openByPriority: { low: 0, normal: 0, high: 0, urgent: 1 }, resolved: 0 },
      emptyAgentWorkload('a'),
    ];
    assert.deepEqual(mergeAgentWorkload(parts), {
      agentId: 'a',
      open: 4,
      openByPriority: { low: 1, normal: 0, high: 2, urgent: 1 },
      resolved: 4,
    });
  });

  test('one part merges to itself, and the parts are not changed', () => {
    const part: AgentWorkload = { agentId: 'a', open: 1, openByPriority: { ...zero, high: 1 }, resolved: 2 };
    const copy = structuredClone(part);
    assert.deepEqual(mergeAgentWorkload([part]), part);
    mergeAgentWorkload([part, part]);
    assert.deepEqual(part, copy);
  });
});
