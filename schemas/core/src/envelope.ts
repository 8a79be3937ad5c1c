/**
 * The event and command envelopes (DESIGN.md, Contracts). Payloads are validated by the event registry;
 * the envelope only fixes their place.
 */
import { z } from 'zod';

export const AggregateRef = z.object({ type: z.string().min(1).max(100), id: z.string().min(1).max(200) });

export const EventEnvelope = z.object({
  /** uuid v7 */
  id: z.string().uuid(),
  type: z.string().min(1).max(200),
  schemaVersion: z.number().int().positive(),
  aggregate: AggregateRef,
  /** 1-based, gapless per aggregate. */
  version: z.number().int().positive(),
  commandId: z.string().min(1).max(200),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200),
  /** Informational (ISO-8601); never used for ordering or consistency. */
  occurredAt: z.string(),
  payload: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** expectedVersion: a number (the aggregate's current version), "new" (must not exist) or "any". */
export const ExpectedVersion = z.union([z.number().int().nonnegative(), z.literal('new'), z.literal('any')]);
export type ExpectedVersion = z.infer<typeof ExpectedVersion>;

export const CommandMetadata = z.object({
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200),
  /** Who sent it (API key id). */
  principal: z.string().max(200).optional(),
  /** When the gateway accepted it (ISO-8601): the clock comes in through the command. */
  receivedAt: z.string(),
});
export type CommandMetadata = z.infer<typeof CommandMetadata>;

/** What the gateway writes to <ctx>.commands (key = aggregateId). */
export const CommandEnvelope = z.object({
  commandId: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  aggregateId: z.string().min(1).max(200),
  expectedVersion: ExpectedVersion.optional(),
  payload: z.unknown(),
  metadata: CommandMetadata,
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

/** The request body of POST /v1/contexts/{context}/commands. */
export const CommandRequest = z.object({
  commandId: z.string().min(1).max(200).optional(),
  type: z.string().min(1).max(200),
  aggregateId: z.string().min(1).max(200),
  expectedVersion: ExpectedVersion.optional(),
  payload: z.unknown(),
});
export type CommandRequest = z.infer<typeof CommandRequest>;

/** The built-in append command: teams that only publish events send them with an expected version. */
export const APPEND_COMMAND_TYPE = 'append';
export const AppendPayload = z.object({
  aggregateType: z.string().min(1).max(100),
  events: z
    .array(z.object({ type: z.string().min(1).max(200), payload: z.unknown() }))
    .min(1)
    .max(100),
});
export type AppendPayload = z.infer<typeof AppendPayload>;
