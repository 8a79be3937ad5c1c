/**
 * A context's domain logic as a pure decider (after Emmett): decide(command, state) -> events, throwing a
 * BusinessRuleViolation to reject; evolve(state, event) -> state. No clock, no ids, no I/O: what the decision
 * needs (time, ids) comes in through the command. State must be plain JSON (it is snapshotted).
 */
export interface DomainEvent<Type extends string = string, Payload = unknown> {
  type: Type;
  payload: Payload;
}

export interface DomainCommand<Type extends string = string, Payload = unknown> {
  type: Type;
  payload: Payload;
  /** Inputs from outside, fixed by the gateway when it accepted the command. */
  context: { commandId: string; aggregateId: string; receivedAt: string };
}

export interface Decider<Command extends DomainCommand, Event extends DomainEvent, State> {
  initialState(): State;
  /** Returns the events the command causes (may be empty) or throws BusinessRuleViolation. */
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
}

/** A business-rule rejection: answered as 422 with this stable code. */
export class BusinessRuleViolation extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BusinessRuleViolation';
  }
}

/**
 * Exhaustiveness for a decider's or a fold's switch over message types: a type left out does not compile, and a
 * message nobody registered fails loudly at run time.
 */
export function unhandled(message: never): never {
  const type = (message as { type?: unknown } | null)?.type;
  throw new Error(`unhandled message type '${String(type)}'`);
}
