/**
 * The projector's side of side effects (side-effects.ts has the outbox): only the active version records them,
 * so this follows the control table's active version; it records the effects of each chunk before the chunk's
 * sink commit, and catches up, from the log, on the events this version applied while it was not recording
 * (another version was active, or this one did not know yet that it was). The outbox ignores an effect it has,
 * so a re-applied chunk or two versions racing across a cutover never record one twice.
 */
import type { PartitionReader, ReadRecord } from '@tidemark/kafka';
import type { EventEnvelope } from '@tidemark/schemas';
import type { Logger } from 'pino';
import type {
  PositionedSideEffect,
  ProjectionControl,
  ProjectionDefinition,
  ProjectionDocument,
  SideEffectOutbox,
} from './contracts';
import type { EventDecoder } from './event-decoder';
import type { FoldRecord } from './fold';
import type { PartitionState } from './partition-state';

export interface SideEffectRecorderOptions<D extends ProjectionDocument> {
  definition: ProjectionDefinition<D>;
  outbox: SideEffectOutbox;
  /** Knows which version is the active one. */
  control: ProjectionControl;
  /** Reads the events topic back for a catch-up. */
  reader: PartitionReader;
  topic: string;
  decoder: EventDecoder;
  logger: Logger;
}

/** What the recorder reads and moves of a partition's state. */
export type EffectsState = Pick<
  PartitionState<ProjectionDocument>,
  'checkpoint' | 'effectsProgress' | 'effectsPersisted'
>;

export class SideEffectRecorder<D extends ProjectionDocument> {
  private readonly definition: ProjectionDefinition<D>;
  private readonly outbox: SideEffectOutbox;
  private readonly logger: Logger;
  /** This version is the active one, as last read from the control table. */
  private activeNow = false;
  private closed = false;
  private refresh: Promise<void> = Promise.resolve();
  private unsubscribe: (() => Promise<void>) | null = null;
  private onActivated: () => void = () => undefined;

  constructor(private readonly options: SideEffectRecorderOptions<D>) {
    this.definition = options.definition;
    this.outbox = options.outbox;
    this.logger = options.logger;
  }

  /** This version is the active one (as last read): it records side effects now. */
  get active(): boolean {
    return this.activeNow;
  }

  /**
   * Reads whether this version is active now, and follows every control change from here on. `onActivated` runs
   * each time the version becomes active: the outbox's progress moved meanwhile (another version recorded), so
   * the caller forgets the progress it knows and catches up.
   */
  async watch(onActivated: () => void): Promise<void> {
    this.onActivated = onActivated;
    // Subscribe first, so that no switch between the read and the subscription goes unnoticed.
    this.unsubscribe = await this.options.control.subscribe(() => {
      this.refresh = this.refresh.then(() => this.refreshActive());
    });
    await this.refreshActive(true);
  }

  /** Stops following the control table (waits for a refresh under way). */
  async close(): Promise<void> {
    this.closed = true;
    await this.unsubscribe?.().catch(() => undefined);
    this.unsubscribe = null;
    await this.refresh;
  }

  private async refreshActive(throwOnError = false): Promise<void> {
    if (this.closed) return;
    let active: boolean;
    try {
      const version = await this.options.control.activeVersion(this.definition.context, this.definition.name);
      active = version === this.definition.version;
    } catch (error) {
      if (throwOnError) throw error;
      // Stay as we were: the control listener calls again after a reconnect.
      this.logger.warn({ err: error }, 'active version not read; side-effect state unchanged');
      return;
    }
    if (active === this.activeNow) return;
    this.activeNow = active;
    this.logger.info(
      { active },
      active ? 'version is active: recording side effects' : 'version is no longer active',
    );
    if (!active) return;
    // Another version moved the outbox's progress meanwhile: reload it, then record what we applied beyond it.
    this.onActivated();
  }

  /** Records the effects of the chunk's events below `reached` that the outbox does not have yet. */
  async recordChunk(
    partition: number,
    state: EffectsState,
    records: readonly FoldRecord[],
    reached: number,
  ): Promise<void> {
    // Fills a gap first (a switch not yet caught up); afterwards the progress is at least the chunk's start.
    await this.catchUp(partition, state);
    const from = state.effectsProgress ?? 0;
    if (reached <= from) return;
    const effects: PositionedSideEffect[] = [];
    for (const record of records) {
      if (record.event && record.offset >= from && record.offset < reached) {
        effects.push(...this.effectsOf(partition, record.offset, record.event));
      }
    }
    if (effects.length > 0) {
      await this.outbox.record(this.definition, partition, effects, reached);
      state.effectsPersisted = reached;
    }
    state.effectsProgress = reached;
  }

  /**
   * Writes `progress`, which chunks without effects moved only in memory (the caller read it from the state
   * before it took the partition's lock).
   */
  async persistProgress(partition: number, state: EffectsState, progress: number): Promise<void> {
    await this.outbox.record(this.definition, partition, [], progress);
    state.effectsPersisted = Math.max(state.effectsPersisted, progress);
  }

  /**
   * Records the effects of the partition's events in [outbox progress, checkpoint), read back from the log:
   * events this version applied while another version was active (or before it knew it was active). Runs under
   * the partition lock, so it never interleaves with a chunk commit.
   */
  async catchUp(partition: number, state: EffectsState): Promise<void> {
    if (!this.activeNow) return;
    const outbox = this.outbox;
    if (state.effectsProgress === null) {
      const progress = await outbox.progress(this.definition.context, this.definition.name);
      state.effectsProgress = progress.get(partition) ?? 0;
      state.effectsPersisted = state.effectsProgress;
    }
    const from = state.effectsProgress;
    const to = state.checkpoint;
    if (from >= to) return;
    let recorded = 0;
    await this.options.reader.read(this.options.topic, partition, from, to, async (batch) => {
      const effects: PositionedSideEffect[] = [];
      for (const record of batch) {
        const event = this.decodeForEffects(record);
        if (event) effects.push(...this.effectsOf(partition, record.offset, event));
      }
      const last = batch.at(-1)?.offset;
      if (last === undefined) return;
      recorded += await outbox.record(this.definition, partition, effects, last + 1);
      state.effectsProgress = Math.max(state.effectsProgress ?? 0, last + 1);
      state.effectsPersisted = Math.max(state.effectsPersisted, last + 1);
    });
    recorded += await outbox.record(this.definition, partition, [], to);
    state.effectsProgress = Math.max(state.effectsProgress ?? 0, to);
    state.effectsPersisted = Math.max(state.effectsPersisted, to);
    this.logger.info({ partition, from, to, recorded }, 'side effects of earlier events recorded');
  }

  /** An event read back from the log, decoded as the consumer path does; null when it has no effects. */
  private decodeForEffects(record: ReadRecord): EventEnvelope | null {
    try {
      return this.options.decoder.decodeRecord(record.headers.type, record.value);
    } catch {
      return null; // undecodable: no effects (the fold dead-letters or halts on it)
    }
  }

  /** The definition's effects of one event; a throwing `effects` loses that event's effects, loudly. */
  private effectsOf(partition: number, offset: number, event: EventEnvelope): PositionedSideEffect[] {
    const effects = this.definition.effects;
    if (!effects) return [];
    try {
      return effects(event).map((effect) => ({ partition, offset, effect }));
    } catch (error) {
      this.logger.error({ err: error, partition, offset, type: event.type }, 'effects of an event failed');
      return [];
    }
  }
}
