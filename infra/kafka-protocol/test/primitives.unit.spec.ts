import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Encoder = require('kafkajs/src/protocol/encoder');

import { ProtocolDecodeError, Reader, Writer } from '../src/primitives';

describe('Writer and Reader', () => {
  test('fixed-width integers round-trip, int64 as JS numbers', () => {
    const w = new Writer(4);
    w.int8(-2)
      .int16(-300)
      .int32(-70000)
      .uint32(0xfffffffe)
      .int64(-1)
      .int64(2 ** 40 + 5)
      .int64(-(2 ** 50) - 3);
    w.boolean(true).boolean(false);
    const r = new Reader(w.toBuffer());
    assert.equal(r.int8(), -2);
    assert.equal(r.int16(), -300);
    assert.equal(r.int32(), -70000);
    assert.equal(r.uint32(), 0xfffffffe);
    assert.equal(r.int64(), -1);
    assert.equal(r.int64(), 2 ** 40 + 5);
    assert.equal(r.int64(), -(2 ** 50) - 3);
    assert.equal(r.boolean(), true);
    assert.equal(r.boolean(), false);
    assert.equal(r.remaining, 0);
  });

  test('int64 bytes match kafkajs', () => {
    for (const value of [0, -1, 1, 2 ** 32, -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, -12345678901234]) {
      const ours = new Writer().int64(value).toBuffer();
      const theirs = new Encoder().writeInt64(value).buffer;
      assert.deepEqual(ours, theirs, `int64 ${value}`);
    }
  });

  test('varint, varlong and unsigned varint bytes match kafkajs', () => {
    for (const value of [0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31 - 1, -(2 ** 31)]) {
      assert.deepEqual(
        new Writer().varint(value).toBuffer(),
        new Encoder().writeVarInt(value).buffer,
        `varint ${value}`,
      );
      assert.equal(new Reader(new Encoder().writeVarInt(value).buffer).varint(), value);
    }
    for (const value of [0, -1, 1, 2 ** 40, -(2 ** 40), 1_700_000_000_000, -(2 ** 52)]) {
      assert.deepEqual(
        new Writer().varlong(value).toBuffer(),
        new Encoder().writeVarLong(value).buffer,
        `varlong ${value}`,
      );
      assert.equal(new Reader(new Encoder().writeVarLong(value).buffer).varlong(), value);
    }
    for (const value of [0, 1, 127, 128, 16383, 16384, 2 ** 28, 2 ** 32 - 1]) {
      assert.deepEqual(
        new Writer().uvarint(value).toBuffer(),
        new Encoder().writeUVarInt(value).buffer,
        `uvarint ${value}`,
      );
      assert.equal(new Reader(new Writer().uvarint(value).toBuffer()).uvarint(), value);
    }
  });

  test('strings and bytes, nullable and compact variants match kafkajs', () => {
    const ours = new Writer()
      .string('héllo')
      .nullableString(null)
      .bytes(Buffer.from('ab'))
      .nullableBytes(null)
      .compactString('kc')
      .compactNullableString(null)
      .compactBytes(Buffer.from([1, 2]))
      .toBuffer();
    const theirs = new Encoder()
      .writeString('héllo')
      .writeString(null)
      .writeBytes(Buffer.from('ab'))
      .writeBytes(null)
      .writeUVarIntString('kc')
      .writeUVarIntString(null)
      .writeUVarIntBytes(Buffer.from([1, 2])).buffer;
    assert.deepEqual(ours, theirs);
    const r = new Reader(ours);
    assert.equal(r.string(), 'héllo');
    assert.equal(r.nullableString(), null);
    assert.deepEqual(r.bytes(), Buffer.from('ab'));
    assert.equal(r.nullableBytes(), null);
    assert.equal(r.compactString(), 'kc');
    assert.equal(r.compactNullableString(), null);
    assert.deepEqual(r.compactBytes(), Buffer.from([1, 2]));
    assert.equal(r.remaining, 0);
  });

  test('arrays: null, empty, int32 and compact', () => {
    const w = new Writer();
    w.nullableArray(null, (wr, v: number) => wr.int32(v));
    w.int32Array([]);
    w.int32Array([1, -2]);
    w.stringArray(['a', 'b']);
    w.compactArray([7, 8], (wr, v) => wr.int16(v));
    const r = new Reader(w.toBuffer());
    assert.equal(
      r.nullableArray((rr) => rr.int32()),
      null,
    );
    assert.deepEqual(r.int32Array(), []);
    assert.deepEqual(r.int32Array(), [1, -2]);
    assert.deepEqual(r.stringArray(), ['a', 'b']);
    assert.deepEqual(
      r.compactArray((rr) => rr.int16()),
      [7, 8],
    );
    assert.equal(r.remaining, 0);
  });

  test('tagged fields are skipped', () => {
    const w = new Writer();
    w.uvarint(2)
      .uvarint(0)
      .uvarint(3)
      .raw(Buffer.from([1, 2, 3]))
      .uvarint(5)
      .uvarint(0)
      .int8(9);
    const r = new Reader(w.toBuffer());
    r.skipTaggedFields();
    assert.equal(r.int8(), 9);
  });

  test('every read is bounds-checked', () => {
    const throwsDecode = (fn: () => unknown) => assert.throws(fn, ProtocolDecodeError);
    throwsDecode(() => new Reader(Buffer.alloc(3)).int32());
    throwsDecode(() => new Reader(Buffer.alloc(7)).int64());
    throwsDecode(() => new Reader(Buffer.from([0, 5, 0x61])).string());
    throwsDecode(() => new Reader(Buffer.from([0xff, 0xff])).string());
    throwsDecode(() => new Reader(Buffer.from([0, 0, 0, 9, 1])).bytes());
    throwsDecode(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).int32Array());
    throwsDecode(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xfe])).nullableArray((r) => r.int8()));
    throwsDecode(() => new Reader(Buffer.from([0x80, 0x80])).uvarint());
    throwsDecode(() => new Reader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).uvarint());
    throwsDecode(() => new Reader(Buffer.from([0x05, 0x61])).compactString());
    throwsDecode(() => new Reader(Buffer.from([0x01, 0x00, 0x09])).skipTaggedFields());
    // A reader bounded before the end of its buffer stops at its end.
    throwsDecode(() => new Reader(Buffer.alloc(8), 0, 2).int32());
  });

  test('growth keeps earlier bytes; large byte views are attached without copying', () => {
    const w = new Writer(8);
    w.int32(0); // size placeholder
    for (let i = 0; i < 100; i++) w.int32(i);
    const big = Buffer.alloc(4096, 7);
    w.raw(big);
    w.int16(0x1234);
    w.setInt32At(0, w.length - 4);
    const chunks = w.toChunks();
    assert.ok(chunks.includes(big), 'large view attached by reference');
    const whole = w.toBuffer();
    assert.equal(whole.length, 4 + 400 + 4096 + 2);
    assert.equal(whole.readInt32BE(0), whole.length - 4);
    assert.equal(whole.readInt32BE(4 + 99 * 4), 99);
    assert.equal(whole[4 + 400 + 10], 7);
    assert.equal(whole.readUInt16BE(whole.length - 2), 0x1234);
    assert.deepEqual(Buffer.concat(chunks), whole);
  });
});
