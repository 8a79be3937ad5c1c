/**
 * The tickets events. Each carries what the projections need to apply it alone, without the ticket's earlier
 * events: TicketAssigned names the agent it leaves (or null) and the priority, TicketResolved and TicketReopened
 * the agent the ticket is assigned to and the priority, so per-agent counters fold from single events.
 *
 * TicketOpened has two schema versions: v1 (the first release) had no tags; v2 adds them. v1 events are upcast
 * with no tags.
 */
import { type EventOf, versioned } from '@tidemark/sdk';
import { z } from 'zod';
import {
  AgentId,
  AuthorId,
  Body,
  PersonId,
  Priority,
  ReopenReason,
  RequesterId,
  Resolution,
  Subject,
  Tags,
} from './values';

export const TicketOpenedV1 = z.object({
  requesterId: RequesterId,
  subject: Subject,
  body: Body,
  priority: Priority,
});
export type TicketOpenedV1 = z.infer<typeof TicketOpenedV1>;

export const TicketOpened = TicketOpenedV1.extend({ tags: Tags });
export type TicketOpened = z.infer<typeof TicketOpened>;

export function upcastTicketOpenedV1(previous: TicketOpenedV1): TicketOpened {
  return { ...previous, tags: [] };
}

export const TicketAssigned = z
  .object({
    agentId: AgentId,
    /** The agent the ticket leaves; null when it was unassigned. */
    previousAgentId: AgentId.nullable(),
    priority: Priority,
  })
  // The decider emits nothing for the same agent again; a per-agent fold may rely on the two keys differing.
  .refine((event) => event.agentId !== event.previousAgentId, {
    message: 'a ticket is assigned to another agent than the one it has',
    path: ['agentId'],
  });
export type TicketAssigned = z.infer<typeof TicketAssigned>;

export const TicketCommented = z.object({ authorId: AuthorId, body: Body, internal: z.boolean() });
export type TicketCommented = z.infer<typeof TicketCommented>;

export const TicketResolved = z.object({
  resolution: Resolution,
  resolvedBy: PersonId,
  /** The agent the ticket is assigned to, whose open ticket this was. */
  agentId: AgentId,
  priority: Priority,
});
export type TicketResolved = z.infer<typeof TicketResolved>;

export const TicketReopened = z.object({
  reason: ReopenReason,
  /** The agent the ticket stays assigned to, whose open ticket it is again. */
  agentId: AgentId,
  priority: Priority,
});
export type TicketReopened = z.infer<typeof TicketReopened>;

/** The event schemas by type; TicketOpened in two versions (v1 upcast with no tags). */
export const ticketEventSchemas = {
  TicketOpened: versioned(TicketOpenedV1).next(TicketOpened, upcastTicketOpenedV1),
  TicketAssigned,
  TicketCommented,
  TicketResolved,
  TicketReopened,
};

export type TicketEvent = EventOf<typeof ticketEventSchemas>;
export type TicketEventType = TicketEvent['type'];
