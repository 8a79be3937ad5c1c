/**
 * Random valid ticket logs for the property tests: commands chosen by a seeded PRNG and run through the real
 * decider, so every history is one the write side could have produced (refused commands are simply skipped).
 * Tickets are spread over partitions and their events interleaved, as a partitioned topic holds them; some
 * TicketOpened events are written at schema v1 (no tags), to go through the upcast.
 */
import type { EventEnvelope } from '@tidemark/schemas';
import { BusinessRuleViolation } from '@tidemark/sdk';
import type { LogEntry } from '@tidemark/sdk/testing';
import {
  PRIORITIES,
  TICKET_AGGREGATE_TYPE,
  type TicketCommand,
  type TicketEvent,
  type TicketState,
  ticketDecider,
} from '@tidemark/tickets';

/** A deterministic PRNG (mulberry32), so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rnd: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rnd() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

// Astral characters and accents, so excerpts are cut next to surrogate pairs.
const WORDS = ['login', 'invoice', 'Café', 'export', '😀', '中文', 'slow', 'refund', 'ÉTÉ', 'seat'];

function words(rnd: () => number, count: number): string {
  return Array.from({ length: count }, () => pick(rnd, WORDS)).join(' ');
}

/** One envelope at `index` in the log (ids and clock derived from it). */
export function envelope(
  index: number,
  aggregateId: string,
  version: number,
  type: string,
  payload: unknown,
  schemaVersion = type === 'TicketOpened' ? 2 : 1,
): EventEnvelope {
  return {
    id: `01890000-0000-7000-8000-${String(index + 1).padStart(12, '0')}`,
    type,
    schemaVersion,
    aggregate: { type: TICKET_AGGREGATE_TYPE, id: aggregateId },
    version,
    commandId: `cmd-${index + 1}`,
    correlationId: `corr-${index + 1}`,
    causationId: `cause-${index + 1}`,
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, index)).toISOString(),
    payload,
  };
}

/** The payload as stored: a v1 TicketOpened has no tags. */
function stored(event: TicketEvent, v1: boolean): { payload: unknown; schemaVersion: number } {
  if (event.type !== 'TicketOpened') return { payload: event.payload, schemaVersion: 1 };
  if (!v1) return { payload: event.payload, schemaVersion: 2 };
  const { tags: _dropped, ...payload } = event.payload;
  return { payload, schemaVersion: 1 };
}

function randomCommand(rnd: () => number, state: TicketState, agents: readonly string[]): TicketCommand {
  const context = { commandId: 'random', aggregateId: 'random', receivedAt: '2025-01-01T00:00:00.000Z' };
  if (state.status === 'absent') {
    const tags = [
      ...new Set(Array.from({ length: Math.floor(rnd() * 4) }, () => pick(rnd, ['Billing', 'login', 'vip']))),
    ];
    return {
      type: 'OpenTicket',
      payload: {
        requesterId: `customer-${Math.floor(rnd() * 5)}`,
        subject: words(rnd, 1 + Math.floor(rnd() * 6)),
        body: words(rnd, 1 + Math.floor(rnd() * 30)),
        priority: pick(rnd, PRIORITIES),
        tags,
      },
      context,
    };
  }
  // Weighted so that histories reach assignments, resolutions and the reopen limit.
  const roll = rnd();
  if (roll < 0.3) return { type: 'AssignTicket', payload: { agentId: pick(rnd, agents) }, context };
  if (roll < 0.55) {
    const body = words(rnd, 1 + Math.floor(rnd() * 120));
    return {
      type: 'CommentOnTicket',
      payload: { authorId: pick(rnd, agents), body, internal: rnd() < 0.3 },
      context,
    };
  }
  if (roll < 0.8) {
    return {
      type: 'ResolveTicket',
      payload: { resolution: words(rnd, 3), resolvedBy: pick(rnd, [...agents, 'lead-cy']) },
      context,
    };
  }
  return { type: 'ReopenTicket', payload: { reason: words(rnd, 2) }, context };
}

export interface RandomLog {
  log: LogEntry[];
  ticketIds: string[];
  agents: readonly string[];
}

/** A log of `tickets` tickets over `partitions` partitions, `steps` commands tried in all. */
export function randomTicketLog(
  rnd: () => number,
  options: { prefix: string; tickets: number; partitions: number; steps: number },
): RandomLog {
  const agents = ['agent-ana', 'agent-bo', 'Agent-Cy', 'agent-dee'];
  const tickets = Array.from({ length: options.tickets }, (_, i) => ({
    id: `${options.prefix}-${i}`,
    partition: Math.floor(rnd() * options.partitions),
    state: ticketDecider.initialState(),
    version: 0,
  }));
  const offsets = new Map<number, number>();
  const log: LogEntry[] = [];
  for (let step = 0; step < options.steps; step++) {
    const ticket = pick(rnd, tickets);
    let events: TicketEvent[];
    try {
      events = ticketDecider.decide(randomCommand(rnd, ticket.state, agents), ticket.state);
    } catch (error) {
      if (error instanceof BusinessRuleViolation) continue;
      throw error;
    }
    for (const event of events) {
      ticket.state = ticketDecider.evolve(ticket.state, event);
      ticket.version++;
      const { payload, schemaVersion } = stored(event, rnd() < 0.25);
      const offset = offsets.get(ticket.partition) ?? 0;
      offsets.set(ticket.partition, offset + 1);
      log.push({
        partition: ticket.partition,
        offset,
        event: envelope(log.length, ticket.id, ticket.version, event.type, payload, schemaVersion),
      });
    }
  }
  return { log, ticketIds: tickets.map((ticket) => ticket.id), agents };
}
