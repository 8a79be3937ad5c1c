import type { ContextExample } from '@tidemark/sdk';

export type { TicketEventEnvelope, WorkloadEventEnvelope, WorkloadEventType } from './events';
export { TICKET_EVENT_TYPES, WORKLOAD_EVENT_TYPES } from './events';
export type {
  AgentWorkload,
  PriorityCounts,
  TicketCommentExcerpt,
  TicketDetail,
  TicketPriority,
  TicketProjectionOptions,
  TicketResolutionView,
  TicketSummary,
  TicketViewStatus,
} from './projections';
export {
  AGENT_WORKLOAD_PROJECTION,
  agentWorkloadKeys,
  agentWorkloadProjection,
  applyAgentWorkload,
  applyTicketDetail,
  applyTicketSummary,
  COMMENT_EXCERPT_LENGTH,
  createAgentWorkloadProjection,
  createTicketDetailProjection,
  createTicketSummaryProjection,
  emptyAgentWorkload,
  excerpt,
  mergeAgentWorkload,
  summaryFromDetail,
  TICKET_DETAIL_PROJECTION,
  TICKET_SUMMARY_PROJECTION,
  ticketDetailProjection,
  ticketSummaryProjection,
} from './projections';
export { AGENT_NOT_FOUND, ticketQueries } from './queries';
export type { TicketAssignment, TicketSearchDocument } from './search';
export {
  applyTicketSearch,
  createTicketSearchProjection,
  PRIORITY_RANK,
  searchDocumentFromDetail,
  TICKET_SEARCH_MAPPINGS,
  TICKET_SEARCH_PROJECTION,
  ticketSearchProjection,
} from './search';

import type { ProjectionDefinition } from '@tidemark/sdk';
import type { AgentWorkload, TicketDetail, TicketProjectionOptions, TicketSummary } from './projections';
import {
  agentWorkloadProjection,
  createAgentWorkloadProjection,
  createTicketDetailProjection,
  createTicketSummaryProjection,
  ticketDetailProjection,
  ticketSummaryProjection,
} from './projections';
import type { TicketSearchDocument } from './search';
import { createTicketSearchProjection, ticketSearchProjection } from './search';

/** The tickets projections at the versions a fresh deployment starts with. */
export const ticketProjectionSet = [
  ticketDetailProjection,
  agentWorkloadProjection,
  ticketSummaryProjection,
  ticketSearchProjection,
] as const;

export interface TicketProjections {
  detail: ProjectionDefinition<TicketDetail>;
  agentWorkload: ProjectionDefinition<AgentWorkload>;
  summary: ProjectionDefinition<TicketSummary>;
  search: ProjectionDefinition<TicketSearchDocument>;
}

/** The four projections with the same version and failure policy (how a fixed version N+1 ships beside N). */
export function ticketProjections(options?: TicketProjectionOptions): TicketProjections {
  return {
    detail: createTicketDetailProjection(options),
    agentWorkload: createAgentWorkloadProjection(options),
    summary: createTicketSummaryProjection(options),
    search: createTicketSearchProjection(options),
  };
}

/** The copy-paste example `tidemark up` prints: open a ticket, then read its views. */
export const ticketsExample: ContextExample = {
  command: {
    type: 'OpenTicket',
    aggregateId: 'ticket-1',
    expectedVersion: 'new',
    payload: {
      requesterId: 'customer-1',
      subject: 'Cannot log in',
      body: 'The login page says my password expired.',
      priority: 'high',
      tags: ['login'],
    },
  },
  reads: ['/v1/tickets/ticket-1', '/v1/tickets/ticket-1/summary', '/v1/tickets/search?q=login&priority=HIGH'],
};
