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

/**
 * Compile time: a fold handles every event type it reads. Run time: an event type it was never given (the
 * runtime skips types a projection does not list), thrown as a poison event for the failure policy.
 */
export function unhandledEvent(event: never): never {
  throw new Error(`tickets projections: unhandled event type '${typeOf(event)}'`);
}

function typeOf(event: unknown): string {
  return typeof event === 'object' && event !== null && 'type' in event ? String(event.type) : typeof event;
}
