/**
 * What a projector holds about one partition it owns, for one consumer-group generation: loaded from the sink
 * (and the dead-letter log) when it takes the partition over, dropped with the generation.
 */
import type { ProjectionDocument } from './contracts';
import type { ParkedState } from './dead-letters';
import type { PartitionDocuments } from './partition-documents';

export interface PartitionState<D extends ProjectionDocument> {
  generation: number;
  /** Next offset to apply: the sink's checkpoint as this projector last read or wrote it. */
  checkpoint: number;
  /** kafkajs's fetch position is known to follow ours (we processed or sought in this generation). */
  continuous: boolean;
  /** A seek we asked for and have not seen a batch from yet. */
  sought: number | null;
  parked: ParkedState;
  /** Next dead-letter partition offset to read. */
  deadLetterTail: number;
  /** The partition's documents: loaded from and committed to the sink, this generation's writes kept. */
  documents: PartitionDocuments<D>;
  /**
   * Side effects: the outbox's progress of the partition as last read or written by this projector (the outbox
   * only moves it forward, so the real one is at least this); null until loaded while active.
   */
  effectsProgress: number | null;
  /**
   * The progress this projector last wrote to (or read from) the outbox. A chunk without effects moves only
   * effectsProgress (saving a Postgres round trip per chunk); the periodic check writes it. A lagging stored
   * progress only makes the next catch-up re-read more of the log: its effects are recorded already and ignored.
   */
  effectsPersisted: number;
}
