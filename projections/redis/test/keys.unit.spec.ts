import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeRedisValue, encodeRedisValue, redisKeyspace } from '../src/index';

describe('redis keyspace', () => {
  const keys = redisKeyspace({ context: 'listings', name: 'listing-detail', version: 3 });

  test('documents and checkpoint of a partition share one hash tag', () => {
    assert.equal(keys.documentKey(5, 'abc'), 'tm:{listings:listing-detail:v3:p5}:d:abc');
    assert.equal(keys.checkpointKey(5), 'tm:{listings:listing-detail:v3:p5}:cp');
    // Braces in a document key do not move the tag: Redis hashes the first {...} only.
    assert.equal(keys.documentKey(0, '{x}'), 'tm:{listings:listing-detail:v3:p0}:d:{x}');
  });

  test('registry and drop pattern are per version', () => {
    assert.equal(keys.registryKey, 'tm:{listings:listing-detail:v3}:partitions');
    assert.equal(keys.partitionKeysPattern, 'tm:{listings:listing-detail:v3:p*}:*');
    const v30 = redisKeyspace({ context: 'listings', name: 'listing-detail', version: 30 });
    assert.ok(!v30.checkpointKey(1).startsWith('tm:{listings:listing-detail:v3:p'));
  });

  test('refuses names that would break keys or patterns, and bad partitions', () => {
    assert.throws(() => redisKeyspace({ context: 'a*b', name: 'x', version: 1 }), /context/);
    assert.throws(() => redisKeyspace({ context: 'a', name: 'x}y', version: 1 }), /name/);
    assert.throws(() => redisKeyspace({ context: 'a', name: 'x', version: 0 }), /version/);
    assert.throws(() => keys.checkpointKey(-1), /partition/);
    assert.throws(() => keys.documentKey(1.5, 'k'), /partition/);
  });
});

describe('redis values', () => {
  test('compact JSON with the position first', () => {
    assert.equal(encodeRedisValue(12, { a: 1 }), '{"p":12,"d":{"a":1}}');
    assert.equal(encodeRedisValue(7, null), '{"p":7,"d":null}');
  });

  test('round trip, tombstones included', () => {
    assert.deepEqual(decodeRedisValue(encodeRedisValue(12, { a: [1, 'x'] }), 'k'), {
      position: 12,
      doc: { a: [1, 'x'] },
    });
    assert.deepEqual(decodeRedisValue(encodeRedisValue(7, null), 'k'), { position: 7, doc: null });
  });

  test('unreadable values fail loudly', () => {
    assert.throws(() => decodeRedisValue('{"d":{}}', 'somekey'), /somekey/);
    assert.throws(() => decodeRedisValue('{"p":1,"d":[1]}', 'k'), /unreadable/);
  });
});
