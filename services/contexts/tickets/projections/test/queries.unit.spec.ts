/**
 * The tickets read routes and the projection set: which view answers which path with which 404 code, the summary
 * fallback to the detail view, the search route's text fields, filters, facets and sorts, and that a deployment
 * hosting the context with these projections and queries (and a v2 in its catalog) is accepted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DocumentQuery, defineDeployment, pathParams, routeShape } from '@tidemark/sdk';
import { ProjectionSpecification } from '@tidemark/sdk/testing';
import { TICKET_NOT_FOUND, ticketsContext } from '@tidemark/tickets';
import {
  AGENT_NOT_FOUND,
  agentWorkloadProjection,
  summaryFromDetail,
  ticketDetailProjection,
  ticketProjectionSet,
  ticketProjections,
  ticketQueries,
  ticketSearchProjection,
  ticketSummaryProjection,
} from '../src/index';

const { ticket, summary, agentWorkload, search } = ticketQueries.queries;

describe('document queries', () => {
  test('the queries of the tickets context, in order', () => {
    assert.equal(ticketQueries.context, 'tickets');
    assert.deepEqual(
      ticketQueries.list.map((query) => [query.name, query.kind, query.path]),
      [
        ['ticket', 'document', '/v1/tickets/:id'],
        ['summary', 'document', '/v1/tickets/:id/summary'],
        ['agentWorkload', 'document', '/v1/agents/:id/workload'],
        ['search', 'search', '/v1/tickets/search'],
      ],
    );
  });

  test('a ticket: the detail view, 404 TICKET_NOT_FOUND (the write side’s code)', () => {
    assert.equal(ticket.view, ticketDetailProjection);
    assert.equal(ticket.param, 'id');
    assert.equal(ticket.notFound, TICKET_NOT_FOUND);
    assert.equal(TICKET_NOT_FOUND, 'TICKET_NOT_FOUND');
    assert.equal(ticket.fallback, undefined);
  });

  test('a summary: memcached, falling back to the detail view through summaryFromDetail', () => {
    assert.equal(summary.view, ticketSummaryProjection);
    assert.equal(summary.notFound, 'TICKET_NOT_FOUND');
    assert.equal(summary.fallback?.view, ticketDetailProjection);
    const detail = ProjectionSpecification.for(ticketsContext, ticketDetailProjection)
      .given([
        {
          type: 'TicketOpened',
          aggregateId: 't-1',
          payload: { requesterId: 'c', subject: 'Help', body: 'Please.', priority: 'low', tags: [] },
        },
      ])
      .document('t-1');
    assert.ok(detail);
    assert.deepEqual(summary.fallback?.map(detail), summaryFromDetail(detail));
  });

  test('an agent’s workload: the gathered Redis view, 404 AGENT_NOT_FOUND', () => {
    assert.equal(agentWorkload.view, agentWorkloadProjection);
    assert.equal(agentWorkload.notFound, AGENT_NOT_FOUND);
    assert.equal(AGENT_NOT_FOUND, 'AGENT_NOT_FOUND');
    assert.deepEqual(pathParams(agentWorkload.path), ['id']);
  });

  test('the search path does not route like a ticket id (its shape differs)', () => {
    const document: DocumentQuery = ticket;
    assert.notEqual(routeShape(search.path), routeShape(document.path));
  });
});

describe('the search query', () => {
  test('hit ticket over the search view; text q over subject (boosted) and body', () => {
    assert.equal(search.view, ticketSearchProjection);
    assert.equal(search.hit, 'ticket');
    assert.deepEqual(search.text, { param: 'q', fields: ['subject^2', 'body'], maxLength: 200 });
  });

  test('filters: lowercase-normalised terms on status, priority, assignee and tag; an assignment choice', () => {
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(search.filters).map(([name, filter]) => [
          name,
          filter.kind === 'term'
            ? [filter.kind, filter.field, filter.normalizer]
            : [filter.kind, filter.field],
        ]),
      ),
      {
        status: ['term', 'status', 'lowercase'],
        priority: ['term', 'priority', 'lowercase'],
        assignee: ['term', 'assigneeId', 'lowercase'],
        tag: ['term', 'tags', 'lowercase'],
        assignment: ['choice', 'assignment'],
      },
    );
    const assignment = search.filters.assignment;
    assert.ok(assignment?.kind === 'choice');
    assert.deepEqual(
      [assignment.values, assignment.any, assignment.default],
      [['assigned', 'unassigned'], 'any', 'any'],
    );
  });

  test('facets on status, priority and assignee; sorts with relevance first and a stable tie breaker', () => {
    assert.deepEqual(search.facets, {
      status: { field: 'status', size: 2 },
      priority: { field: 'priority', size: 4 },
      assignee: { field: 'assigneeId', size: 50 },
    });
    assert.deepEqual(Object.keys(search.sorts), ['relevance', 'newest', 'oldest', 'updated', 'priority']);
    assert.deepEqual(search.sorts.priority, [
      { field: 'priorityRank', order: 'desc' },
      { field: 'openedAt', order: 'asc' },
    ]);
    assert.equal(search.defaultSort, 'relevance');
    assert.equal(search.tieBreaker, 'id');
    assert.deepEqual(search.size, { default: 20, max: 100 });
  });
});

describe('the projection set', () => {
  test('the four projections at version 1, one per store', () => {
    assert.deepEqual(
      ticketProjectionSet.map((projection) => [projection.name, projection.store, projection.version]),
      [
        ['ticket-detail', 'postgres', 1],
        ['agent-workload', 'redis', 1],
        ['ticket-summary', 'memcached', 1],
        ['ticket-search', 'elasticsearch', 1],
      ],
    );
  });

  test('a deployment hosts the context with its projections and queries, and a v2 in the catalog', () => {
    const v2 = ticketProjections({ version: 2, failurePolicy: 'dead-letter' });
    const deployment = defineDeployment({
      contexts: [{ context: ticketsContext, projections: ticketProjectionSet, queries: ticketQueries }],
      catalog: [v2.detail, v2.agentWorkload, v2.summary, v2.search],
    });
    assert.equal(deployment.contexts[0]?.context.name, 'tickets');
    assert.equal(deployment.catalog.length, 4);
  });
});
