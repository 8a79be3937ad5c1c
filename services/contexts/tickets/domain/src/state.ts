/**
 * A ticket as the decider needs it. Plain JSON: the processor snapshots it. A resolved ticket always has an
 * assignee (an unassigned one cannot be resolved), which the type says so that reopening needs no check.
 */
import type { Priority } from './values';

export type TicketStatus = 'absent' | 'open' | 'resolved';

export type TicketState =
  | { status: 'absent' }
  | { status: 'open'; priority: Priority; assigneeId: string | null; reopenCount: number }
  | { status: 'resolved'; priority: Priority; assigneeId: string; reopenCount: number };

export const ABSENT_TICKET: TicketState = { status: 'absent' };
