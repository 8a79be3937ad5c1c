/** Shared helpers of the protocol codec tests. */
import assert from 'node:assert/strict';
import { Reader, Writer } from '../src/primitives';

/** The body bytes a kafkajs request builder produces. */
export async function kafkajsBody(request: {
  encode(): Promise<{ readonly buffer: Buffer }>;
}): Promise<Buffer> {
  return (await request.encode()).buffer;
}

/** Decodes a body with one of our decoders and checks every byte was consumed. */
export function decodeAll<T>(
  decode: (reader: Reader, version: number) => T,
  body: Buffer,
  version: number,
): T {
  const reader = new Reader(body);
  const value = decode(reader, version);
  assert.equal(reader.remaining, 0, 'decoder left bytes unread');
  return value;
}

/** Encodes with one of our encoders into a single buffer. */
export function encodeToBuffer<T>(
  encode: (writer: Writer, value: T, version: number) => void,
  value: T,
  version: number,
): Buffer {
  const writer = new Writer(16);
  encode(writer, value, version);
  return writer.toBuffer();
}

/** Walks a decoded kafkajs value (typed unknown) along a path of keys and indexes. */
export function pick(value: unknown, ...path: (string | number)[]): unknown {
  let current: unknown = value;
  for (const step of path) {
    if (typeof step === 'number') {
      assert.ok(Array.isArray(current), `expected an array at ${String(step)}`);
      current = current[step];
    } else {
      assert.ok(current !== null && typeof current === 'object', `expected an object at ${step}`);
      assert.ok(step in current, `missing field ${step}`);
      current = (current as Record<string, unknown>)[step];
    }
  }
  return current;
}
