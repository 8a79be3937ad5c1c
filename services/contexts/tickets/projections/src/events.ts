/** The tickets events as the projections see them: typed envelopes, payloads in their latest schema version. */
import type { TypedEvent } from '@tidemark/sdk';
import type { TicketEvent, TicketEventType } from '@tidemark/tickets';

/** An envelope of one of the tickets events (the runtime has read its payload through the registry). */
export type TicketEventEnvelope = TypedEvent<TicketEvent>;

export const TICKET_EVENT_TYPES: readonly TicketEventType[] = [
  'TicketOpened',
  'TicketAssigned',
  'TicketCommented',
  'TicketResolved',
  'TicketReopened',
];

/** The events that move a ticket into, out of or between agents' counters. */
export const WORKLOAD_EVENT_TYPES = ['TicketAssigned', 'TicketResolved', 'TicketReopened'] as const;
export type WorkloadEventType = (typeof WORKLOAD_EVENT_TYPES)[number];
export type WorkloadEventEnvelope = TypedEvent<Extract<TicketEvent, { type: WorkloadEventType }>>;
