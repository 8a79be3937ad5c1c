/**
 * What a processor knows about one partition: every aggregate's version, decider state and log position,
 * and the outcomes of recent commands (for idempotent retries). Changes made while deciding a batch go into a
 * BatchOverlay and reach the state only once the batch's Kafka transaction has committed.
 */
import type { CommandOutcome } from '@tidemark/schemas';

export interface AggregateRecord {
  /** Events so far (0: the aggregate does not exist). */
  version: number;
  state: unknown;
  /** Offset just past the aggregate's last event in the events partition (null: no event yet). */
  position: number | null;
}

export interface PartitionSnapshot {
  format: 1;
  partition: number;
  /** Events below this offset are folded into `aggregates`. */
  eventsNext: number;
  /** Results from this offset on may be newer than `outcomes`. */
  resultsNext: number;
  aggregates: [string, AggregateRecord][];
  outcomes: [string, CommandOutcome][];
}

export class PartitionState {
  readonly aggregates = new Map<string, AggregateRecord>();
  /** Insertion-ordered: the oldest outcome is evicted first. */
  readonly outcomes = new Map<string, CommandOutcome>();
  eventsNext = 0;
  resultsNext = 0;
  eventsSinceSnapshot = 0;

  constructor(
    readonly partition: number,
    private readonly dedupeWindow: number,
  ) {}

  static fromSnapshot(snapshot: PartitionSnapshot, dedupeWindow: number): PartitionState {
    const state = new PartitionState(snapshot.partition, dedupeWindow);
    for (const [id, record] of snapshot.aggregates) state.aggregates.set(id, record);
    for (const [id, outcome] of snapshot.outcomes) state.rememberOutcome(id, outcome);
    state.eventsNext = snapshot.eventsNext;
    state.resultsNext = snapshot.resultsNext;
    return state;
  }

  rememberOutcome(commandId: string, outcome: CommandOutcome): void {
    this.outcomes.delete(commandId);
    this.outcomes.set(commandId, outcome);
    if (this.outcomes.size > this.dedupeWindow) {
      const oldest = this.outcomes.keys().next();
      if (!oldest.done) this.outcomes.delete(oldest.value);
    }
  }

  toSnapshot(): PartitionSnapshot {
    return {
      format: 1,
      partition: this.partition,
      eventsNext: this.eventsNext,
      resultsNext: this.resultsNext,
      aggregates: [...this.aggregates],
      outcomes: [...this.outcomes],
    };
  }
}

/** Tentative changes of one batch: read through to the state, applied only after the commit. */
export class BatchOverlay {
  readonly aggregates = new Map<string, AggregateRecord>();
  readonly outcomes = new Map<string, CommandOutcome>();

  constructor(private readonly base: PartitionState) {}

  aggregate(id: string): AggregateRecord | undefined {
    return this.aggregates.get(id) ?? this.base.aggregates.get(id);
  }

  outcome(commandId: string): CommandOutcome | undefined {
    return this.outcomes.get(commandId) ?? this.base.outcomes.get(commandId);
  }

  applyTo(state: PartitionState): void {
    for (const [id, record] of this.aggregates) state.aggregates.set(id, record);
    for (const [id, outcome] of this.outcomes) state.rememberOutcome(id, outcome);
  }
}
