/**
 * The built-in `append` command: teams that only publish events send them with an expected version and the
 * platform appends them as given, after checking each against the context's event registry. There is no rule
 * to decide beyond that (the processor already checks the expected version and tracks the aggregate version),
 * so this is a function rather than a Decider.
 */
import {
  APPEND_COMMAND_TYPE,
  AppendPayload,
  type EventRegistry,
  TidemarkError,
  zodIssues,
} from '@tidemark/schemas';
import type { DomainEvent } from './decider';

/**
 * Returns the events of an append command, each payload parsed by the latest schema of its type.
 * Throws TidemarkError (400): COMMAND_INVALID (payload is not an AppendPayload), EVENT_TYPE_UNKNOWN,
 * EVENT_INVALID (details name the event index and the zod issues), AGGREGATE_TYPE_MISMATCH (when
 * expectedAggregateType is given and the payload names another).
 */
export function appendDecision(
  registry: EventRegistry,
  payload: AppendPayload | unknown,
  expectedAggregateType?: string,
): DomainEvent[] {
  // Parsed again here although the gateway validated it: the command topic may hold what an older gateway wrote.
  const parsed = AppendPayload.safeParse(payload);
  if (!parsed.success) {
    throw new TidemarkError('COMMAND_INVALID', `payload of ${APPEND_COMMAND_TYPE} is invalid`, 400, false, {
      issues: zodIssues(parsed.error),
    });
  }
  const append = parsed.data;
  if (expectedAggregateType !== undefined && append.aggregateType !== expectedAggregateType) {
    throw new TidemarkError(
      'AGGREGATE_TYPE_MISMATCH',
      `this context appends to '${expectedAggregateType}' aggregates, not '${append.aggregateType}'`,
      400,
      false,
    );
  }
  return append.events.map((event, index) => {
    try {
      return { type: event.type, payload: registry.validateNew(event.type, event.payload) };
    } catch (error) {
      if (error instanceof TidemarkError) {
        throw new TidemarkError(
          error.code,
          `events[${index}]: ${error.message}`,
          error.status,
          error.retryable,
          {
            ...error.details,
            index,
          },
        );
      }
      throw error;
    }
  });
}
