/**
 * The ticket search view (Elasticsearch): one flat document per ticket, full text over subject and body,
 * case-insensitive filters and exact facets over the keyword fields. Its fold is its own (not the detail fold
 * through the document, as the listings search does): the document keeps no comment or resolution text to
 * rebuild a detail from, and two folds kept equal by a property test check each other.
 */
import type { ProjectionDefinition, SearchMappings } from '@tidemark/sdk';
import { date, defineProjection, integer, keyword, long, text, unhandled } from '@tidemark/sdk';
import type { Priority } from '@tidemark/tickets';
import { ticketsContext } from '@tidemark/tickets';
import type { TicketEventEnvelope } from './events';
import { TICKET_EVENT_TYPES } from './events';
import type { TicketDetail, TicketProjectionOptions, TicketViewStatus } from './projections';
import { alreadyApplied } from './projections';

export const TICKET_SEARCH_PROJECTION = 'ticket-search';

export type TicketAssignment = 'assigned' | 'unassigned';

/** A ticket as the search index holds it (flat: every filter is a top-level keyword field). */
export type TicketSearchDocument = {
  id: string;
  requesterId: string;
  subject: string;
  body: string;
  status: TicketViewStatus;
  priority: Priority;
  /** The priority as a number, for sorting by urgency (keywords sort alphabetically). */
  priorityRank: number;
  assigneeId: string | null;
  /** Whether anyone has it: a term filter cannot ask for a missing assignee, a choice over this can. */
  assignment: TicketAssignment;
  tags: string[];
  commentCount: number;
  reopenCount: number;
  openedAt: string;
  updatedAt: string;
  /** occurredAt of the resolution while resolved; null while open. */
  resolvedAt: string | null;
  /** The aggregate version of the last event applied. */
  version: number;
};

export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { low: 1, normal: 2, high: 3, urgent: 4 };

/**
 * Every document field is mapped (none left to dynamic mapping, which would guess). The filtered keyword fields
 * carry a lowercase multi-field (`status.lowercase`), so `priority=HIGH` finds high while facets keep the values.
 */
export const TICKET_SEARCH_MAPPINGS: SearchMappings<TicketSearchDocument> = {
  id: keyword(),
  requesterId: keyword(),
  // `subject.raw`: the exact subject, for exact matches and sorting.
  subject: text({ raw: true }),
  body: text(),
  status: keyword({ normalizer: 'lowercase' }),
  priority: keyword({ normalizer: 'lowercase' }),
  priorityRank: integer(),
  assigneeId: keyword({ normalizer: 'lowercase' }),
  assignment: keyword(),
  tags: keyword({ normalizer: 'lowercase' }),
  commentCount: long(),
  reopenCount: integer(),
  openedAt: date(),
  updatedAt: date(),
  resolvedAt: date(),
  version: long(),
};

const assignmentOf = (assigneeId: string | null): TicketAssignment =>
  assigneeId === null ? 'unassigned' : 'assigned';

/** The search document a detail shows (what the search fold must agree with). */
export function searchDocumentFromDetail(detail: TicketDetail): TicketSearchDocument {
  return {
    id: detail.id,
    requesterId: detail.requesterId,
    subject: detail.subject,
    body: detail.body,
    status: detail.status,
    priority: detail.priority,
    priorityRank: PRIORITY_RANK[detail.priority],
    assigneeId: detail.assigneeId,
    assignment: assignmentOf(detail.assigneeId),
    tags: [...detail.tags],
    commentCount: detail.commentCount,
    reopenCount: detail.reopenCount,
    openedAt: detail.openedAt,
    updatedAt: detail.updatedAt,
    resolvedAt: detail.resolution?.at ?? null,
    version: detail.version,
  };
}

/** The search fold over the flat document. */
export function applyTicketSearch(
  current: TicketSearchDocument | null,
  event: TicketEventEnvelope,
): TicketSearchDocument | null {
  if (alreadyApplied(current, event)) return current;
  const stamp = { version: event.version, updatedAt: event.occurredAt };
  if (event.type === 'TicketOpened') {
    if (current) return { ...current, ...stamp };
    const { requesterId, subject, body, priority, tags } = event.payload;
    return {
      id: event.aggregate.id,
      requesterId,
      subject,
      body,
      status: 'open',
      priority,
      priorityRank: PRIORITY_RANK[priority],
      assigneeId: null,
      assignment: 'unassigned',
      tags: [...tags],
      commentCount: 0,
      reopenCount: 0,
      openedAt: event.occurredAt,
      updatedAt: event.occurredAt,
      resolvedAt: null,
      version: event.version,
    };
  }
  if (!current) return null;
  switch (event.type) {
    case 'TicketAssigned':
      return { ...current, ...stamp, assigneeId: event.payload.agentId, assignment: 'assigned' };
    case 'TicketCommented':
      return { ...current, ...stamp, commentCount: current.commentCount + 1 };
    case 'TicketResolved':
      return {
        ...current,
        ...stamp,
        status: 'resolved',
        assigneeId: event.payload.agentId,
        assignment: 'assigned',
        resolvedAt: event.occurredAt,
      };
    case 'TicketReopened':
      return {
        ...current,
        ...stamp,
        status: 'open',
        assigneeId: event.payload.agentId,
        assignment: 'assigned',
        reopenCount: current.reopenCount + 1,
        resolvedAt: null,
      };
    default:
      return unhandled(event);
  }
}

export function createTicketSearchProjection(
  options: TicketProjectionOptions = {},
): ProjectionDefinition<TicketSearchDocument> {
  return defineProjection({
    context: ticketsContext,
    name: TICKET_SEARCH_PROJECTION,
    version: options.version ?? 1,
    failurePolicy: options.failurePolicy ?? 'stop',
    store: 'elasticsearch',
    events: TICKET_EVENT_TYPES,
    apply: applyTicketSearch,
    search: { mappings: TICKET_SEARCH_MAPPINGS },
  });
}

export const ticketSearchProjection = createTicketSearchProjection();
