/**
 * Decoding a projection's events: the log record's JSON into an envelope, its payload upcast to the latest schema
 * version. One implementation for every path that reads events: the consumer loop, the side-effect catch-up
 * (events read back from the log) and the replay of dead letters (their copy of the event), so an event that
 * decoded once decodes the same way everywhere.
 */
import { GENESIS_EVENT_TYPE } from '@tidemark/kafka';
import type { EventRegistry } from '@tidemark/schemas';
import { EventEnvelope } from '@tidemark/schemas';
import type { KafkaMessage } from 'kafkajs';

/** Whether `value` has every envelope field the fold relies on (the cheap check zod runs behind). */
function looksLikeEnvelope(value: unknown): value is EventEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const aggregate = v.aggregate as Record<string, unknown> | null | undefined;
  return (
    typeof v.id === 'string' &&
    typeof v.type === 'string' &&
    v.type.length > 0 &&
    Number.isInteger(v.schemaVersion) &&
    (v.schemaVersion as number) > 0 &&
    typeof aggregate === 'object' &&
    aggregate !== null &&
    typeof aggregate.type === 'string' &&
    typeof aggregate.id === 'string' &&
    aggregate.id.length > 0 &&
    Number.isInteger(v.version) &&
    (v.version as number) > 0 &&
    typeof v.commandId === 'string' &&
    typeof v.correlationId === 'string' &&
    typeof v.causationId === 'string' &&
    typeof v.occurredAt === 'string' &&
    'payload' in v
  );
}

/** The `type` header of a consumed record (the processor writes it), if any. */
export function typeHeader(message: KafkaMessage): string | undefined {
  const value = message.headers?.type;
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export class EventDecoder {
  private readonly eventTypes: ReadonlySet<string>;

  /**
   * @param events upcasts stored payloads to the latest schema version.
   * @param eventTypes the event types the projection handles: the others are skipped, not decoded.
   */
  constructor(
    private readonly events: EventRegistry,
    eventTypes: Iterable<string>,
  ) {
    this.eventTypes = new Set(eventTypes);
  }

  /**
   * A record of the events topic: null when the projection does not handle it (the genesis record, a `type`
   * header or an envelope type not handled), the upcast envelope otherwise. Throws when the record does not
   * decode (a poison record: the fold dead-letters or halts on it). The header is checked first, so records of
   * other types are not even parsed.
   */
  decodeRecord(headerType: string | undefined, value: Buffer | null): EventEnvelope | null {
    if (headerType === GENESIS_EVENT_TYPE) return null;
    if (headerType !== undefined && !this.eventTypes.has(headerType)) return null;
    const envelope = this.decode(value);
    return this.eventTypes.has(envelope.type) ? envelope : null;
  }

  /** A record's value as an upcast envelope; throws when it does not decode. */
  private decode(value: Buffer | null): EventEnvelope {
    if (!value) throw new Error('record has no value');
    return this.envelopeOf(JSON.parse(value.toString('utf8')) as unknown);
  }

  /**
   * A dead letter's copy of an event (its text as it was in the log, or that JSON parsed) as an upcast envelope;
   * throws when it does not decode. The parsed JSON is copied first: the envelope is built in place, and the
   * dead letter keeps the event as the log had it.
   */
  decodeRecorded(event: unknown): EventEnvelope {
    return this.envelopeOf(
      typeof event === 'string' ? (JSON.parse(event) as unknown) : (structuredClone(event) as unknown),
    );
  }

  /** Turns parsed JSON (this call's own: it is changed in place) into an upcast envelope. */
  private envelopeOf(raw: unknown): EventEnvelope {
    // zod on every envelope costs more than the JSON parse while catching up; a structural check covers what
    // the fold relies on, and zod runs (for its precise error) only when that check fails. The parsed object is
    // this call's own, so it becomes the envelope without a copy (a dead letter re-reads the record's bytes).
    const envelope = looksLikeEnvelope(raw) ? raw : EventEnvelope.parse(raw);
    envelope.payload = this.events.read(envelope.type, envelope.schemaVersion, envelope.payload);
    // The payload is now in the latest schema version; the envelope says so, for the projection.
    envelope.schemaVersion = this.events.latestVersion(envelope.type);
    return envelope;
  }
}
