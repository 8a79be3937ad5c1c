/**
 * Deciding one command against a partition's state (no I/O): deduplication by command id, expected-version
 * check, payload validation, the context's decider (or the built-in append), and the event envelopes.
 * Event offsets are not known yet: accepted outcomes get their token once the batch's events are written.
 */

import type { CommandOutcome, EventEnvelope } from '@tidemark/schemas';
import {
  APPEND_COMMAND_TYPE,
  AppendPayload,
  CommandEnvelope,
  TidemarkError,
  zodIssues,
} from '@tidemark/schemas';
import type { ContextDefinition, DomainCommand, DomainEvent } from '@tidemark/sdk';
import { appendDecision, BusinessRuleViolation } from '@tidemark/sdk';
import type { AggregateRecord, BatchOverlay } from './partition-state';

export interface DecidedCommand {
  commandId: string;
  aggregateId: string;
  outcome: CommandOutcome;
  /** Events to append (empty unless newly accepted). */
  events: EventEnvelope[];
  /** The aggregate after the command (accepted only); its position is set once the events are written. */
  record: AggregateRecord | null;
  duplicate: boolean;
}

export interface DecideDependencies {
  newEventId(): string;
}

/** Parses a commands-topic record; null when it is not a command envelope at all. */
export function parseCommand(
  value: Buffer | null,
): CommandEnvelope | { invalid: TidemarkError; commandId: string; aggregateId: string } | null {
  if (!value) return null;
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = CommandEnvelope.safeParse(json);
  if (parsed.success) return parsed.data;
  const loose = json as { commandId?: unknown; aggregateId?: unknown };
  if (typeof loose.commandId !== 'string') return null;
  return {
    commandId: loose.commandId,
    aggregateId: typeof loose.aggregateId === 'string' ? loose.aggregateId : '',
    invalid: new TidemarkError('COMMAND_ENVELOPE_INVALID', 'the command envelope is invalid', 400, false, {
      issues: zodIssues(parsed.error),
    }),
  };
}

function invalidOutcome(commandId: string, aggregateId: string, error: TidemarkError): CommandOutcome {
  const issues = Array.isArray(error.details?.issues)
    ? (error.details.issues as { path: string; message: string }[])
    : [];
  return { status: 'invalid', commandId, aggregateId, code: error.code, message: error.message, issues };
}

export function decideCommand(
  context: ContextDefinition,
  overlay: BatchOverlay,
  command: CommandEnvelope,
  deps: DecideDependencies,
): DecidedCommand {
  const { commandId, aggregateId } = command;
  const base = { commandId, aggregateId, events: [] as EventEnvelope[], record: null, duplicate: false };
  const previous = overlay.outcome(commandId);
  if (previous) return { ...base, outcome: previous, duplicate: true };

  const current: AggregateRecord = overlay.aggregate(aggregateId) ?? {
    version: 0,
    state: context.decider.initialState(),
    position: null,
  };
  const expected = command.expectedVersion;
  const matches =
    expected === undefined ||
    expected === 'any' ||
    (expected === 'new' ? current.version === 0 : expected === current.version);
  if (!matches) {
    const outcome: CommandOutcome = {
      status: 'conflict',
      commandId,
      aggregateId,
      expectedVersion: expected,
      currentVersion: current.version,
    };
    overlay.outcomes.set(commandId, outcome);
    return { ...base, outcome };
  }

  let decided: DomainEvent[];
  try {
    if (command.type === APPEND_COMMAND_TYPE) {
      const payload = AppendPayload.safeParse(command.payload);
      if (!payload.success) {
        throw new TidemarkError('COMMAND_INVALID', 'payload of append is invalid', 400, false, {
          issues: zodIssues(payload.error),
        });
      }
      decided = appendDecision(context.events, payload.data);
    } else {
      const payload = context.commands.validate(command.type, command.payload);
      const domainCommand: DomainCommand = {
        type: command.type,
        payload,
        context: { commandId, aggregateId, receivedAt: command.metadata.receivedAt },
      };
      decided = context.decider.decide(domainCommand, current.state);
      for (const event of decided) context.events.validateNew(event.type, event.payload);
    }
  } catch (error) {
    let outcome: CommandOutcome;
    if (error instanceof BusinessRuleViolation) {
      outcome = {
        status: 'rejected',
        commandId,
        aggregateId,
        aggregateVersion: current.version,
        code: error.code,
        message: error.message,
      };
    } else if (error instanceof TidemarkError) {
      outcome = invalidOutcome(commandId, aggregateId, error);
    } else {
      // A bug in a decider must not stop the partition: the command is answered as invalid and logged upstream.
      outcome = invalidOutcome(
        commandId,
        aggregateId,
        new TidemarkError(
          'DECIDER_ERROR',
          `the decider failed: ${error instanceof Error ? error.message : String(error)}`,
          400,
          false,
        ),
      );
    }
    overlay.outcomes.set(commandId, outcome);
    return { ...base, outcome };
  }

  let state = current.state;
  const events: EventEnvelope[] = decided.map((event, index) => {
    state = context.decider.evolve(state, event);
    return {
      id: deps.newEventId(),
      type: event.type,
      schemaVersion: context.events.latestVersion(event.type),
      aggregate: { type: context.aggregateType, id: aggregateId },
      version: current.version + index + 1,
      commandId,
      correlationId: command.metadata.correlationId,
      causationId: commandId,
      occurredAt: command.metadata.receivedAt,
      payload: event.payload,
    };
  });
  const record: AggregateRecord = {
    version: current.version + events.length,
    state,
    position: current.position,
  };
  overlay.aggregates.set(aggregateId, record);
  const outcome: CommandOutcome = {
    status: 'accepted',
    commandId,
    aggregateId,
    aggregateVersion: record.version,
    events,
    token: '', // set once the events have offsets
  };
  overlay.outcomes.set(commandId, outcome);
  return { ...base, outcome, events, record };
}
