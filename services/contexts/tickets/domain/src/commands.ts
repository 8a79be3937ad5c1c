/**
 * The tickets commands. Payloads are strict (unknown keys are refused), so a client's typo such as `agent` for
 * `agentId` is a 400 rather than a silently ignored field.
 */
import type { CommandOf } from '@tidemark/sdk';
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

/** Sent with expectedVersion "new". Tags may be left out (none). */
export const OpenTicket = z.strictObject({
  requesterId: RequesterId,
  subject: Subject,
  body: Body,
  priority: Priority,
  tags: Tags.default([]),
});
export type OpenTicket = z.infer<typeof OpenTicket>;

export const AssignTicket = z.strictObject({ agentId: AgentId });
export type AssignTicket = z.infer<typeof AssignTicket>;

/** `internal`: a note between agents, not shown to the requester (default false). */
export const CommentOnTicket = z.strictObject({
  authorId: AuthorId,
  body: Body,
  internal: z.boolean().default(false),
});
export type CommentOnTicket = z.infer<typeof CommentOnTicket>;

/** `resolvedBy` may be someone other than the assignee (a lead closing a colleague's ticket). */
export const ResolveTicket = z.strictObject({ resolution: Resolution, resolvedBy: PersonId });
export type ResolveTicket = z.infer<typeof ResolveTicket>;

export const ReopenTicket = z.strictObject({ reason: ReopenReason });
export type ReopenTicket = z.infer<typeof ReopenTicket>;

/** The command schemas by type. */
export const ticketCommandSchemas = {
  OpenTicket,
  AssignTicket,
  CommentOnTicket,
  ResolveTicket,
  ReopenTicket,
};

export type TicketCommand = CommandOf<typeof ticketCommandSchemas>;
export type TicketCommandType = TicketCommand['type'];
