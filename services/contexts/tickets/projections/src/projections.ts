/**
 * The tickets context's projections: the full ticket (Postgres), per-agent workload counters gathered across
 * partitions (Redis) and a small summary card (memcached). Pure: each is a fold of the tickets events, no I/O.
 */
import type { FailurePolicy, ProjectionDefinition } from '@tidemark/sdk';
import { defineProjection, unhandled } from '@tidemark/sdk';
import type { Priority } from '@tidemark/tickets';
import { PRIORITIES, ticketsContext } from '@tidemark/tickets';
import type { TicketEventEnvelope, WorkloadEventEnvelope } from './events';
import { TICKET_EVENT_TYPES, WORKLOAD_EVENT_TYPES } from './events';

export const TICKET_DETAIL_PROJECTION = 'ticket-detail';
export const AGENT_WORKLOAD_PROJECTION = 'agent-workload';
export const TICKET_SUMMARY_PROJECTION = 'ticket-summary';

export type TicketViewStatus = 'open' | 'resolved';
export type TicketPriority = Priority;

/** At most this many code points of the last comment are kept in the detail view. */
export const COMMENT_EXCERPT_LENGTH = 200;

/** The last comment as the detail shows it. Type aliases, not interfaces: documents need an index signature. */
export type TicketCommentExcerpt = {
  authorId: string;
  excerpt: string;
  /** An agents-only note: a reader showing the ticket to its requester leaves it out. */
  internal: boolean;
  /** occurredAt of the comment. */
  at: string;
};

export type TicketResolutionView = {
  text: string;
  resolvedBy: string;
  /** occurredAt of TicketResolved. */
  at: string;
};

/** The full ticket (Postgres). */
export type TicketDetail = {
  id: string;
  requesterId: string;
  subject: string;
  body: string;
  priority: TicketPriority;
  tags: string[];
  status: TicketViewStatus;
  /** null until assigned; a resolved ticket keeps its assignee. */
  assigneeId: string | null;
  commentCount: number;
  lastComment: TicketCommentExcerpt | null;
  /** The resolution while resolved; null while open (a reopen clears it). */
  resolution: TicketResolutionView | null;
  reopenCount: number;
  /** The reason of the last reopen, null if never reopened. */
  lastReopenReason: string | null;
  /** The aggregate version of the last event applied. */
  version: number;
  /** occurredAt of TicketOpened (informational). */
  openedAt: string;
  /** occurredAt of the last event applied (informational). */
  updatedAt: string;
};

export type PriorityCounts = Record<TicketPriority, number>;

/**
 * One partition's share of an agent's workload (Redis, keyScope 'all'): only the tickets of that partition. A
 * read merges the partitions' sub-documents with `merge`. An agent whose counters are all back at zero keeps
 * its document (the agent exists; a 404 would say otherwise).
 */
export type AgentWorkload = {
  agentId: string;
  /** Open tickets assigned to the agent. */
  open: number;
  /** The same, by priority (every priority present). */
  openByPriority: PriorityCounts;
  /** Resolved tickets assigned to the agent (a reopen moves one back to open). */
  resolved: number;
};

/** A small card for lists and previews (memcached). */
export type TicketSummary = {
  id: string;
  subject: string;
  status: TicketViewStatus;
  priority: TicketPriority;
  assigneeId: string | null;
  /** The aggregate version of the last event applied. */
  version: number;
};

export interface TicketProjectionOptions {
  /** Default 1. */
  version?: number;
  /** Default 'stop'. */
  failurePolicy?: FailurePolicy;
}

/**
 * An event at or below the document's aggregate version was applied already: keep the document. Sinks refuse
 * stale writes by position already; this also makes the per-ticket folds idempotent themselves.
 */
export const alreadyApplied = (current: { version: number } | null, event: TicketEventEnvelope) =>
  current !== null && event.version <= current.version;

/**
 * The first `max` code points of a text, with an ellipsis when cut. Code points, not UTF-16 units: a cut through
 * a surrogate pair would leave an unpaired surrogate, which no view store keeps as it is. Not graphemes either:
 * segmentation follows the ICU data of the running Node, and a fold must give the same excerpt on every node.
 */
export function excerpt(text: string, max = COMMENT_EXCERPT_LENGTH): string {
  const codePoints = Array.from(text);
  if (codePoints.length <= max) return text;
  return `${codePoints
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}

/** The detail fold. Events are facts: they apply whatever the status (the decider only emits valid ones). */
export function applyTicketDetail(
  current: TicketDetail | null,
  event: TicketEventEnvelope,
): TicketDetail | null {
  if (alreadyApplied(current, event)) return current;
  const stamp = { version: event.version, updatedAt: event.occurredAt };
  if (event.type === 'TicketOpened') {
    // A ticket is opened once; a second TicketOpened (never emitted) does not reset it.
    if (current) return { ...current, ...stamp };
    const { requesterId, subject, body, priority, tags } = event.payload;
    return {
      id: event.aggregate.id,
      requesterId,
      subject,
      body,
      priority,
      tags: [...tags],
      status: 'open',
      assigneeId: null,
      commentCount: 0,
      lastComment: null,
      resolution: null,
      reopenCount: 0,
      lastReopenReason: null,
      version: event.version,
      openedAt: event.occurredAt,
      updatedAt: event.occurredAt,
    };
  }
  // An event for a ticket never opened (impossible from the decider): nothing to show.
  if (!current) return null;
  switch (event.type) {
    case 'TicketAssigned':
      return { ...current, ...stamp, assigneeId: event.payload.agentId };
    case 'TicketCommented': {
      const { authorId, body, internal } = event.payload;
      return {
        ...current,
        ...stamp,
        commentCount: current.commentCount + 1,
        lastComment: { authorId, excerpt: excerpt(body), internal, at: event.occurredAt },
      };
    }
    case 'TicketResolved': {
      const { resolution, resolvedBy, agentId } = event.payload;
      return {
        ...current,
        ...stamp,
        status: 'resolved',
        assigneeId: agentId,
        resolution: { text: resolution, resolvedBy, at: event.occurredAt },
      };
    }
    case 'TicketReopened':
      return {
        ...current,
        ...stamp,
        status: 'open',
        assigneeId: event.payload.agentId,
        resolution: null,
        reopenCount: current.reopenCount + 1,
        lastReopenReason: event.payload.reason,
      };
    default:
      return unhandled(event);
  }
}

/** The summary a detail shows: the summary query answers from the detail view when memcached lost a card. */
export function summaryFromDetail(detail: TicketDetail): TicketSummary {
  return {
    id: detail.id,
    subject: detail.subject,
    status: detail.status,
    priority: detail.priority,
    assigneeId: detail.assigneeId,
    version: detail.version,
  };
}

/**
 * The summary fold: its own fold over the events (not through the detail), kept equal to summaryFromDetail by
 * tests. It reads every event type, comments included, so that its version is the detail's.
 */
export function applyTicketSummary(
  current: TicketSummary | null,
  event: TicketEventEnvelope,
): TicketSummary | null {
  if (alreadyApplied(current, event)) return current;
  const version = event.version;
  if (event.type === 'TicketOpened') {
    if (current) return { ...current, version };
    const { subject, priority } = event.payload;
    return { id: event.aggregate.id, subject, status: 'open', priority, assigneeId: null, version };
  }
  if (!current) return null;
  switch (event.type) {
    case 'TicketAssigned':
      return { ...current, version, assigneeId: event.payload.agentId };
    case 'TicketCommented':
      return { ...current, version };
    case 'TicketResolved':
      return { ...current, version, status: 'resolved', assigneeId: event.payload.agentId };
    case 'TicketReopened':
      return { ...current, version, status: 'open', assigneeId: event.payload.agentId };
    default:
      return unhandled(event);
  }
}

export function emptyPriorityCounts(): PriorityCounts {
  return { low: 0, normal: 0, high: 0, urgent: 0 };
}

export function emptyAgentWorkload(agentId: string): AgentWorkload {
  return { agentId, open: 0, openByPriority: emptyPriorityCounts(), resolved: 0 };
}

/** The agents a workload event counts for: a reassignment concerns the agent it leaves and the one it reaches. */
export function agentWorkloadKeys(event: WorkloadEventEnvelope): string[] {
  switch (event.type) {
    case 'TicketAssigned': {
      const { agentId, previousAgentId } = event.payload;
      return previousAgentId === null ? [agentId] : [previousAgentId, agentId];
    }
    case 'TicketResolved':
    case 'TicketReopened':
      return [event.payload.agentId];
    default:
      return unhandled(event);
  }
}

function moveTicket(
  workload: AgentWorkload,
  priority: TicketPriority,
  openDelta: number,
  resolvedDelta: number,
): AgentWorkload {
  return {
    ...workload,
    open: workload.open + openDelta,
    openByPriority: { ...workload.openByPriority, [priority]: workload.openByPriority[priority] + openDelta },
    resolved: workload.resolved + resolvedDelta,
  };
}

/**
 * The per-partition workload fold of agent `key`. Every workload event carries the agents and the priority it
 * moves, so the fold needs no ticket state; an agent's counters never go below zero in a partition because all
 * of a ticket's events are in that ticket's partition, in order.
 */
export function applyAgentWorkload(
  current: AgentWorkload | null,
  event: WorkloadEventEnvelope,
  key: string,
): AgentWorkload {
  const workload = current ?? emptyAgentWorkload(key);
  switch (event.type) {
    case 'TicketAssigned': {
      const { agentId, previousAgentId, priority } = event.payload;
      const delta = (key === agentId ? 1 : 0) - (key === previousAgentId ? 1 : 0);
      return delta === 0 ? workload : moveTicket(workload, priority, delta, 0);
    }
    case 'TicketResolved':
      return event.payload.agentId === key ? moveTicket(workload, event.payload.priority, -1, 1) : workload;
    case 'TicketReopened':
      return event.payload.agentId === key ? moveTicket(workload, event.payload.priority, 1, -1) : workload;
    default:
      return unhandled(event);
  }
}

/** Sums the partitions' sub-documents of one agent. */
export function mergeAgentWorkload(parts: readonly AgentWorkload[]): AgentWorkload {
  const merged = emptyAgentWorkload(parts[0]?.agentId ?? '');
  for (const part of parts) {
    merged.open += part.open;
    merged.resolved += part.resolved;
    for (const priority of PRIORITIES) merged.openByPriority[priority] += part.openByPriority[priority];
  }
  return merged;
}

const settings = (options: TicketProjectionOptions = {}) => {
  const failurePolicy: FailurePolicy = options.failurePolicy ?? 'stop';
  return { context: ticketsContext, version: options.version ?? 1, failurePolicy };
};

export function createTicketDetailProjection(
  options?: TicketProjectionOptions,
): ProjectionDefinition<TicketDetail> {
  return defineProjection({
    ...settings(options),
    name: TICKET_DETAIL_PROJECTION,
    store: 'postgres',
    events: TICKET_EVENT_TYPES,
    // The agent's queue and the open/resolved lists are the reads that filter.
    indexes: ['assigneeId', 'status'],
    apply: applyTicketDetail,
  });
}

export function createAgentWorkloadProjection(
  options?: TicketProjectionOptions,
): ProjectionDefinition<AgentWorkload> {
  return defineProjection({
    ...settings(options),
    name: AGENT_WORKLOAD_PROJECTION,
    store: 'redis',
    keyScope: 'all',
    events: WORKLOAD_EVENT_TYPES,
    key: agentWorkloadKeys,
    apply: applyAgentWorkload,
    merge: mergeAgentWorkload,
  });
}

export function createTicketSummaryProjection(
  options?: TicketProjectionOptions,
): ProjectionDefinition<TicketSummary> {
  return defineProjection({
    ...settings(options),
    name: TICKET_SUMMARY_PROJECTION,
    store: 'memcached',
    events: TICKET_EVENT_TYPES,
    apply: applyTicketSummary,
  });
}

export const ticketDetailProjection = createTicketDetailProjection();
export const agentWorkloadProjection = createAgentWorkloadProjection();
export const ticketSummaryProjection = createTicketSummaryProjection();
