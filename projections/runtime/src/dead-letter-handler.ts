/**
 * The projector's side of the dead-letter policy (dead-letters.ts has the topic and its records): writing the
 * dead letters of a chunk, following the partition's dead-letter log into its parked keys, and performing the
 * replay requests an operator appends there. Every method runs under the partition's lock, as its owner.
 */
import type { PartitionReader } from '@tidemark/kafka';
import type { KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { ProjectionDefinition, ProjectionDocument, WatermarkBus } from './contracts';
import { watermarkUpdate } from './contracts';
import type { DeadLetterRecord, ReplayResultRecord } from './dead-letters';
import { readDeadLetterPartition } from './dead-letters';
import type { EventDecoder } from './event-decoder';
import type { DeadLetterDecision, ParkedEvent } from './fold';
import { replayParked } from './fold';
import type { PartitionState } from './partition-state';
import type { ProjectorMetrics } from './projector-metrics';
import { partitionLabels } from './projector-metrics';

export interface DeadLetterHandlerOptions<D extends ProjectionDocument> {
  definition: ProjectionDefinition<D>;
  /** The version's dead-letter topic. */
  topic: string;
  /** Idempotent, one request in flight: the partition's dead letters stay in order. */
  producer: Producer;
  reader: PartitionReader;
  decoder: EventDecoder;
  bus: WatermarkBus;
  metrics: ProjectorMetrics;
  logger: Logger;
}

/** A dead letter's copy of the event: the parsed JSON when it decoded, else its text as it was in the log. */
function recordedEvent(value: Buffer | null | undefined, decoded: boolean): unknown {
  if (!value) return null;
  const text = value.toString('utf8');
  return decoded ? (JSON.parse(text) as unknown) : text;
}

export class DeadLetterHandler<D extends ProjectionDocument> {
  private readonly definition: ProjectionDefinition<D>;
  private readonly topic: string;
  private readonly producer: Producer;
  private readonly logger: Logger;

  constructor(private readonly options: DeadLetterHandlerOptions<D>) {
    this.definition = options.definition;
    this.topic = options.topic;
    this.producer = options.producer;
    this.logger = options.logger;
  }

  /** Reads new records of the partition's dead-letter log into the parked state. */
  async sync(partition: number, state: Pick<PartitionState<D>, 'parked' | 'deadLetterTail'>): Promise<void> {
    const { records, end } = await readDeadLetterPartition(
      this.options.reader,
      this.topic,
      partition,
      state.deadLetterTail,
    );
    for (const record of records) state.parked.apply(record);
    state.deadLetterTail = end;
  }

  /**
   * Appends the chunk's dead letters, each with its event as the log has it (`undecodable`: the bytes of the
   * records that did not decode; the others are looked up in `messages`), then reads them back into the parked
   * keys.
   */
  async write(
    partition: number,
    state: Pick<PartitionState<D>, 'parked' | 'deadLetterTail'>,
    deadLetters: readonly DeadLetterDecision[],
    messages: readonly KafkaMessage[],
    undecodable: ReadonlyMap<number, Buffer | null>,
  ): Promise<void> {
    const at = new Date().toISOString();
    const logged = new Map(messages.map((m) => [Number(m.offset), m.value]));
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: deadLetters.map((d) => {
        const record: DeadLetterRecord = {
          kind: 'dead-letter',
          partition,
          offset: d.offset,
          type: d.type,
          keys: d.keys,
          error: d.error,
          ...(d.parkedBehind !== undefined ? { parkedBehind: d.parkedBehind } : {}),
          at,
          event: undecodable.has(d.offset)
            ? recordedEvent(undecodable.get(d.offset), false)
            : recordedEvent(logged.get(d.offset), true),
        };
        return { partition, key: `${partition}:${d.offset}`, value: JSON.stringify(record) };
      }),
    });
    // Read them back in log order (with anything else appended meanwhile) to update the parked keys.
    await this.sync(partition, state);
    this.options.metrics.deadLetters.inc(partitionLabels(this.definition, partition), deadLetters.length);
    for (const d of deadLetters) {
      const log = d.parkedBehind === undefined ? this.logger.error : this.logger.warn;
      log.call(
        this.logger,
        { partition, offset: d.offset, type: d.type, keys: d.keys, error: d.error },
        d.parkedBehind === undefined ? 'event dead-lettered' : 'event parked behind a dead letter',
      );
    }
  }

  /** Re-applies the parked events of the oldest replay request with the code this projector runs. */
  async replay(partition: number, state: PartitionState<D>): Promise<void> {
    const request = state.parked.requests[0];
    if (!request) return;
    const entries = state.parked.entries(request.keys);
    const decoder = this.options.decoder;
    const parked: ParkedEvent[] = entries.map(({ offset, key, record }) => {
      try {
        return { offset, key, event: decoder.decodeRecorded(record.event) };
      } catch (error) {
        return { offset, key, event: error instanceof Error ? error : new Error(String(error)) };
      }
    });
    const keys = [...new Set(parked.map((p) => p.key))];
    const loaded = await state.documents.load(keys);
    const result = replayParked(this.definition, parked, loaded);
    if (result.writes.length > 0) await state.documents.commit(result.writes, state.checkpoint);
    const answer: ReplayResultRecord = {
      kind: 'replay-result',
      partition,
      requestId: request.requestId,
      replayed: result.replayed,
      failed: result.failed,
      at: new Date().toISOString(),
    };
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ partition, key: `replay:${request.requestId}`, value: JSON.stringify(answer) }],
    });
    await this.sync(partition, state);
    // A reader waiting on this partition should re-read the replayed documents.
    if (result.writes.length > 0) {
      await this.options.bus
        .publish([watermarkUpdate(this.definition, partition, state.checkpoint)])
        .catch(() => undefined);
    }
    this.logger.info(
      {
        partition,
        requestId: request.requestId,
        replayed: result.replayed.length,
        stillParked: result.failed.length,
      },
      'dead letters replayed',
    );
  }
}
