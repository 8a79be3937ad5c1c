/**
 * Given/When/Then for deciders (after Emmett's DeciderSpecification): given the events that already happened,
 * when a command arrives, then these events follow, or this rule is broken, or nothing happens. It runs the
 * decider exactly as the processor does (fold the history with evolve from the initial state, then decide) and
 * asserts with node:assert, so it works inside any node:test test.
 *
 *   DeciderSpecification.for(orderDecider)
 *     .given([{ type: 'OrderPlaced', payload: { ... } }])
 *     .when({ type: 'CancelOrder', payload: { reason: 'changed my mind' } })
 *     .then([{ type: 'OrderCancelled', payload: { ... } }]);
 */
import assert from 'node:assert/strict';
import type { CommandRegistry, EventRegistry } from '@tidemark/schemas';
import type { ContextDefinition } from '../context';
import { BusinessRuleViolation, type Decider, type DomainCommand, type DomainEvent } from '../decider';

/** A command as a test writes it: the outside inputs (ids, clock) may be left out and get fixed defaults. */
export type SpecCommand<Command extends DomainCommand> = Command extends DomainCommand
  ? Omit<Command, 'context'> & { context?: Partial<Command['context']> }
  : never;

export const SPEC_COMMAND_CONTEXT: DomainCommand['context'] = {
  commandId: 'spec-command-1',
  aggregateId: 'spec-aggregate-1',
  receivedAt: '2025-01-01T00:00:00.000Z',
};

export interface SpecificationOptions {
  /**
   * When given, every event the decider emits must satisfy the latest schema of its type: a decider that emits
   * what the registry refuses fails in the test rather than in the processor.
   */
  events?: EventRegistry;
  /**
   * When given, a command's payload goes through its schema first, as the gateway does: defaults are filled in,
   * and a payload the schema refuses fails the specification.
   */
  commands?: CommandRegistry;
}

export class DeciderSpecification<Command extends DomainCommand, Event extends DomainEvent, State> {
  private constructor(
    private readonly decider: Decider<Command, Event, State>,
    private readonly options: SpecificationOptions,
  ) {}

  static for<Command extends DomainCommand, Event extends DomainEvent, State>(
    decider: Decider<Command, Event, State>,
    options: SpecificationOptions = {},
  ): DeciderSpecification<Command, Event, State> {
    return new DeciderSpecification(decider, options);
  }

  /** A context's decider, with its command and event schemas applied as the platform applies them. */
  static forContext<Command extends DomainCommand, Event extends DomainEvent, State>(
    context: ContextDefinition<Command, Event, State>,
  ): DeciderSpecification<Command, Event, State> {
    return new DeciderSpecification(context.decider, { events: context.events, commands: context.commands });
  }

  /** The history, oldest first; [] for an aggregate that does not exist yet. */
  given(events: readonly Event[]): Given<Command, Event, State> {
    return new Given(this.decider, this.options, events);
  }
}

export class Given<Command extends DomainCommand, Event extends DomainEvent, State> {
  constructor(
    private readonly decider: Decider<Command, Event, State>,
    private readonly options: SpecificationOptions,
    private readonly history: readonly Event[],
  ) {}

  when(command: SpecCommand<Command>): When<Command, Event, State> {
    const payload = this.options.commands
      ? this.options.commands.validate(command.type, command.payload)
      : command.payload;
    const full = {
      ...command,
      payload,
      context: { ...SPEC_COMMAND_CONTEXT, ...command.context },
    } as unknown as Command;
    return new When(this.decider, this.options, this.history, full);
  }
}

type Result<Event> = { events: Event[] } | { error: unknown };

export class When<Command extends DomainCommand, Event extends DomainEvent, State> {
  constructor(
    private readonly decider: Decider<Command, Event, State>,
    private readonly options: SpecificationOptions,
    private readonly history: readonly Event[],
    private readonly command: Command,
  ) {}

  /**
   * Asserts the decider emits exactly these events, in this order. (This makes When a thenable: do not await
   * it; every assertion here is synchronous.)
   */
  // biome-ignore lint/suspicious/noThenProperty: Given/When/Then is the vocabulary this helper exists for.
  then(expected: readonly Event[]): void {
    const events = this.expectEvents();
    assert.deepStrictEqual(events, expected, `${this.command.type} emitted other events than expected`);
  }

  /** Asserts the decider rejects the command with a BusinessRuleViolation of this code. */
  thenThrows(code: string): void {
    const result = this.run();
    if ('events' in result) {
      assert.fail(
        `${this.command.type} was expected to break rule ${code} but emitted ${describe(result.events)}`,
      );
    }
    if (!(result.error instanceof BusinessRuleViolation)) throw result.error;
    assert.equal(result.error.code, code, `${this.command.type} broke another rule than expected`);
  }

  /** Asserts the command is accepted and changes nothing (an idempotent no-op). */
  thenNothingHappened(): void {
    this.then([]);
  }

  /**
   * Asserts the state after the history and the emitted events: for deciders whose evolve matters beyond the
   * next decision (state is snapshotted). Returns the emitted events.
   */
  thenState(expected: State): Event[] {
    const events = this.expectEvents();
    assert.deepStrictEqual(this.fold([...this.history, ...events]), expected);
    return events;
  }

  private expectEvents(): Event[] {
    const result = this.run();
    if ('error' in result) {
      const error = result.error;
      if (error instanceof BusinessRuleViolation) {
        assert.fail(
          `${this.command.type} was expected to succeed but broke rule ${error.code}: ${error.message}`,
        );
      }
      throw error;
    }
    // The processor folds what it appends; an event evolve cannot take would break the partition's rebuild.
    this.fold([...this.history, ...result.events]);
    const registry = this.options.events;
    if (registry) {
      for (const event of result.events) registry.validateNew(event.type, event.payload);
    }
    return result.events;
  }

  private run(): Result<Event> {
    const state = this.fold(this.history);
    try {
      return { events: this.decider.decide(this.command, state) };
    } catch (error) {
      return { error };
    }
  }

  private fold(events: readonly Event[]): State {
    return events.reduce((state, event) => this.decider.evolve(state, event), this.decider.initialState());
  }
}

function describe(events: readonly DomainEvent[]): string {
  return events.length === 0 ? 'nothing' : events.map((event) => event.type).join(', ');
}
