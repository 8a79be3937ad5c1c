/**
 * The outcome of a command, as written by the processor to <ctx>.command-results and answered by the gateway.
 * A retried command id gets exactly the first outcome again.
 */
import { z } from 'zod';
import { EventEnvelope } from './envelope';

export const AcceptedOutcome = z.object({
  status: z.literal('accepted'),
  commandId: z.string(),
  aggregateId: z.string(),
  /** The aggregate's version after the command's events. */
  aggregateVersion: z.number().int().nonnegative(),
  events: z.array(EventEnvelope),
  /** Consistency token just past the command's last event. */
  token: z.string(),
});

export const RejectedOutcome = z.object({
  status: z.literal('rejected'),
  commandId: z.string(),
  aggregateId: z.string(),
  aggregateVersion: z.number().int().nonnegative(),
  /** Stable business-rule code, e.g. LISTING_NOT_ACTIVE. */
  code: z.string(),
  message: z.string(),
});

export const ConflictOutcome = z.object({
  status: z.literal('conflict'),
  commandId: z.string(),
  aggregateId: z.string(),
  expectedVersion: z.union([z.number().int(), z.literal('new'), z.literal('any')]),
  /** The aggregate's current version (0 when it does not exist). */
  currentVersion: z.number().int().nonnegative(),
});

/** A command the processor could not read (schema drift between gateway and processor, unknown type). */
export const InvalidOutcome = z.object({
  status: z.literal('invalid'),
  commandId: z.string(),
  aggregateId: z.string(),
  code: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
});

export const CommandOutcome = z.discriminatedUnion('status', [
  AcceptedOutcome,
  RejectedOutcome,
  ConflictOutcome,
  InvalidOutcome,
]);
export type CommandOutcome = z.infer<typeof CommandOutcome>;
export type AcceptedOutcome = z.infer<typeof AcceptedOutcome>;
export type RejectedOutcome = z.infer<typeof RejectedOutcome>;
export type ConflictOutcome = z.infer<typeof ConflictOutcome>;
export type InvalidOutcome = z.infer<typeof InvalidOutcome>;
