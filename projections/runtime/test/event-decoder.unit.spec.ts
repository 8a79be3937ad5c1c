import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GENESIS_EVENT_TYPE } from '@tidemark/kafka';
import { AggregateRef, EventEnvelope, EventRegistry } from '@tidemark/schemas';
import type { KafkaMessage } from 'kafkajs';
import { EventDecoder, typeHeader } from '../src/event-decoder';

// Schemas from the envelope's own (this package does not depend on zod): v1 payloads are anything, v2 payloads
// an { type, id } object that v1's { kind, name } is upcast to.
const registry = new EventRegistry([
  {
    type: 'Renamed',
    versions: [
      { version: 1, schema: EventEnvelope.shape.payload },
      {
        version: 2,
        schema: AggregateRef,
        upcast: (previous) => {
          const p = previous as { kind: string; name: string };
          return { type: p.kind, id: p.name };
        },
      },
    ],
  },
  { type: 'Other', versions: [{ version: 1, schema: EventEnvelope.shape.payload }] },
]);

function envelope(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: '018f0000-0000-7000-8000-000000000000',
    type: 'Renamed',
    schemaVersion: 1,
    aggregate: { type: 'thing', id: 't1' },
    version: 1,
    commandId: 'c',
    correlationId: 'c',
    causationId: 'c',
    occurredAt: '2024-01-01T00:00:00.000Z',
    payload: { kind: 'k', name: 'n' },
    ...overrides,
  };
}

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const decoder = () => new EventDecoder(registry, ['Renamed']);

describe('EventDecoder', () => {
  test('decodes a record and upcasts its payload to the latest version, which the envelope then says', () => {
    const event = decoder().decodeRecord('Renamed', bytes(envelope()));
    assert.deepEqual(event, envelope({ schemaVersion: 2, payload: { type: 'k', id: 'n' } }));
  });

  test('a record at the latest version is read as it is', () => {
    const latest = envelope({ schemaVersion: 2, payload: { type: 'a', id: 'b' } });
    assert.deepEqual(decoder().decodeRecord(undefined, bytes(latest)), latest);
  });

  test('skips the genesis record and records whose type header is not handled, without parsing them', () => {
    const garbage = Buffer.from('not json');
    assert.equal(decoder().decodeRecord(GENESIS_EVENT_TYPE, garbage), null);
    assert.equal(decoder().decodeRecord('Other', garbage), null);
  });

  test('without a type header, skips an envelope whose type is not handled', () => {
    assert.equal(decoder().decodeRecord(undefined, bytes(envelope({ type: 'Other' }))), null);
  });

  test('throws for records that do not decode (poison records)', () => {
    const d = decoder();
    assert.throws(() => d.decodeRecord('Renamed', null), /record has no value/);
    assert.throws(() => d.decodeRecord('Renamed', Buffer.from('{"id":')), SyntaxError);
    // Not an envelope: zod's precise error.
    const { aggregate: _, ...noAggregate } = envelope();
    assert.throws(() => d.decodeRecord('Renamed', bytes(noAggregate)), /aggregate/);
    // The payload does not match its schema version.
    assert.throws(
      () => d.decodeRecord('Renamed', bytes(envelope({ schemaVersion: 2, payload: { type: 1 } }))),
      /Renamed v2 payload does not match its schema/,
    );
  });

  test("a dead letter's copy of the event decodes as the record did, and is left as it was", () => {
    const d = decoder();
    const fromLog = d.decodeRecord('Renamed', bytes(envelope()));
    const text = JSON.stringify(envelope());
    assert.deepEqual(d.decodeRecorded(text), fromLog);
    const parsed = JSON.parse(text) as unknown;
    assert.deepEqual(d.decodeRecorded(parsed), fromLog);
    assert.deepEqual(parsed, envelope(), 'the parked record keeps the event as the log had it');
    assert.throws(() => d.decodeRecorded('not json'), SyntaxError);
    assert.throws(() => d.decodeRecorded(null), /expected object/);
  });

  test('typeHeader reads the header as kafkajs gives it', () => {
    const message = (headers: KafkaMessage['headers']) => ({ headers }) as KafkaMessage;
    assert.equal(typeHeader(message({ type: Buffer.from('Renamed') })), 'Renamed');
    assert.equal(typeHeader(message({ type: 'Renamed' })), 'Renamed');
    assert.equal(typeHeader(message({ type: [Buffer.from('A'), Buffer.from('B')] })), 'A');
    assert.equal(typeHeader(message({ other: 'x' })), undefined);
    assert.equal(typeHeader(message(undefined)), undefined);
  });
});
