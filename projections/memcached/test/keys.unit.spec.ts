import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildRequest,
  decodeMemcachedValue,
  encodeKeySegment,
  encodeMemcachedValue,
  MEMCACHED_MAX_KEY_BYTES,
  memcachedGenerationKey,
  memcachedKeyspace,
  Opcode,
} from '../src/index';

const version = { context: 'listings', name: 'listing-detail', version: 2 };
const SAFE = /^[\x21-\x7e]+$/;

describe('memcached keyspace', () => {
  const keys = memcachedKeyspace(version, 'AbC-_9');

  test('layout: version, generation, partition, key', () => {
    assert.equal(memcachedGenerationKey(version), 'tm:listings:listing-detail:v2:gen');
    assert.equal(keys.documentKey(4, 'abc-123'), 'tm:listings:listing-detail:v2:gAbC-_9:p4:abc-123');
    assert.equal(keys.checkpointKey(4), 'tm:listings:listing-detail:v2:gAbC-_9:p4:__checkpoint');
  });

  test('keys that do not fit are hashed; the result is always a valid memcached key', () => {
    const odd = [
      'x'.repeat(300),
      'has space',
      'tab\there',
      'naïve-ünïcode',
      '日本語',
      '',
      'line\nbreak',
      '#looks-hashed',
      '__checkpoint',
    ];
    const seen = new Set<string>();
    for (const key of odd) {
      const encoded = keys.documentKey(123, key);
      assert.ok(Buffer.byteLength(encoded) <= MEMCACHED_MAX_KEY_BYTES, encoded);
      assert.match(encoded, SAFE);
      assert.match(encoded, /:p123:#[A-Za-z0-9_-]{43}$/);
      seen.add(encoded);
    }
    assert.equal(seen.size, odd.length, 'distinct keys stay distinct');
    assert.notEqual(keys.documentKey(0, '__checkpoint'), keys.checkpointKey(0));
  });

  test('the longest raw key that fits is kept, one more byte is hashed', () => {
    const prefix = keys.documentKey(7, '');
    const prefixLength = prefix.length - 44; // minus the hashed empty key
    const fits = 'k'.repeat(MEMCACHED_MAX_KEY_BYTES - prefixLength);
    assert.equal(keys.documentKey(7, fits).length, MEMCACHED_MAX_KEY_BYTES);
    assert.ok(keys.documentKey(7, fits).endsWith(fits));
    assert.ok(!keys.documentKey(7, `${fits}k`).endsWith('k'.repeat(50)));
  });

  test('encodeKeySegment is deterministic', () => {
    assert.equal(encodeKeySegment('a b', 100), encodeKeySegment('a b', 100));
    assert.equal(encodeKeySegment('plain', 100), 'plain');
    assert.notEqual(encodeKeySegment('plain', 3), 'plain');
  });

  test('refuses bad names, generations and partitions', () => {
    assert.throws(() => memcachedKeyspace({ ...version, context: 'a b' }, 'g'), /context/);
    assert.throws(() => memcachedKeyspace({ ...version, name: 'x'.repeat(200) }, 'g'), /too long/);
    assert.throws(() => memcachedKeyspace(version, 'g:1'), /generation/);
    assert.throws(() => keys.checkpointKey(-1), /partition/);
  });
});

describe('memcached values and requests', () => {
  test('values keep the original key, the position and the document', () => {
    const raw = encodeMemcachedValue('k 1', 9, { a: 1 });
    assert.equal(raw, '{"k":"k 1","p":9,"d":{"a":1}}');
    assert.deepEqual(decodeMemcachedValue(Buffer.from(raw)), { k: 'k 1', p: 9, d: { a: 1 } });
    assert.deepEqual(decodeMemcachedValue(encodeMemcachedValue('t', 3, null)), { k: 't', p: 3, d: null });
    assert.throws(() => decodeMemcachedValue('{"p":1,"d":null}'), /unreadable/);
  });

  test('binary request layout, CAS in the header', () => {
    const cas = Buffer.from('0102030405060708', 'hex');
    const request = buildRequest(Opcode.set, 'key', Buffer.alloc(8), Buffer.from('value'), 42, cas);
    assert.equal(request.length, 24 + 8 + 3 + 5);
    assert.equal(request.readUInt8(0), 0x80);
    assert.equal(request.readUInt8(1), Opcode.set);
    assert.equal(request.readUInt16BE(2), 3);
    assert.equal(request.readUInt8(4), 8);
    assert.equal(request.readUInt32BE(8), 16);
    assert.equal(request.readUInt32BE(12), 42);
    assert.deepEqual(request.subarray(16, 24), cas);
    assert.equal(request.subarray(32, 35).toString(), 'key');
    assert.equal(request.subarray(35).toString(), 'value');
    const plain = buildRequest(Opcode.get, 'k', Buffer.alloc(0), Buffer.alloc(0), 1);
    assert.deepEqual(plain.subarray(16, 24), Buffer.alloc(8));
  });
});
