/**
 * The tickets read routes: a ticket, its summary card, an agent's workload and the ticket search. The query API
 * serves them with causal reads; this file only says which view answers which route.
 */
import { defineQueries, documentQuery, searchQuery } from '@tidemark/sdk';
import { TICKET_NOT_FOUND, ticketsContext } from '@tidemark/tickets';
import {
  agentWorkloadProjection,
  summaryFromDetail,
  ticketDetailProjection,
  ticketSummaryProjection,
} from './projections';
import { ticketSearchProjection } from './search';

/** A ticket's 404 uses the write side's code (TICKET_NOT_FOUND); an agent is known only to the read side. */
export const AGENT_NOT_FOUND = 'AGENT_NOT_FOUND';

export const ticketQueries = defineQueries(ticketsContext, {
  ticket: documentQuery(ticketDetailProjection, {
    path: '/v1/tickets/:id',
    notFound: TICKET_NOT_FOUND,
    summary: 'A ticket (Postgres detail view)',
  }),
  summary: documentQuery(ticketSummaryProjection, {
    path: '/v1/tickets/:id/summary',
    notFound: TICKET_NOT_FOUND,
    summary:
      'The summary card of a ticket (memcached; a card the cache lost is derived from the detail view)',
    fallback: { view: ticketDetailProjection, map: summaryFromDetail },
  }),
  agentWorkload: documentQuery(agentWorkloadProjection, {
    path: '/v1/agents/:id/workload',
    notFound: AGENT_NOT_FOUND,
    summary: "An agent's open and resolved tickets (Redis, one sub-document per partition, merged)",
    description: 'An agent is known once a ticket has been assigned to them; their counters may all be zero.',
  }),
  search: searchQuery(ticketSearchProjection, {
    path: '/v1/tickets/search',
    summary: 'Full-text search of tickets with filters, facets, sort and paging (Elasticsearch)',
    hit: 'ticket',
    text: { param: 'q', fields: ['subject^2', 'body'], maxLength: 200 },
    filters: {
      status: { kind: 'term', field: 'status', normalizer: 'lowercase', description: 'open or resolved' },
      priority: {
        kind: 'term',
        field: 'priority',
        normalizer: 'lowercase',
        description: 'low, normal, high or urgent',
      },
      assignee: { kind: 'term', field: 'assigneeId', normalizer: 'lowercase', description: 'an agent id' },
      tag: { kind: 'term', field: 'tags', normalizer: 'lowercase', description: 'tickets carrying this tag' },
      assignment: {
        kind: 'choice',
        field: 'assignment',
        values: ['assigned', 'unassigned'],
        any: 'any',
        default: 'any',
        description: 'unassigned: the queue nobody has taken yet',
      },
    },
    facets: {
      status: { field: 'status', size: 2 },
      priority: { field: 'priority', size: 4 },
      assignee: { field: 'assigneeId', size: 50 },
    },
    sorts: {
      relevance: 'relevance',
      newest: [{ field: 'openedAt', order: 'desc' }],
      oldest: [{ field: 'openedAt', order: 'asc' }],
      updated: [{ field: 'updatedAt', order: 'desc' }],
      // Most urgent first, and within a priority the one waiting longest.
      priority: [
        { field: 'priorityRank', order: 'desc' },
        { field: 'openedAt', order: 'asc' },
      ],
    },
    defaultSort: 'relevance',
    tieBreaker: 'id',
  }),
});
