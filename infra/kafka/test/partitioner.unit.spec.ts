import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Partitioners } from 'kafkajs';
import { partitionForKey } from '../src';

describe('partitionForKey', () => {
  test('agrees with kafkajs DefaultPartitioner (Java-compatible murmur2) for many keys and partition counts', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 4, 8, 12, 64]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
        partitionId: i,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
      }));
      for (let i = 0; i < 500; i++) {
        const key = i % 3 === 0 ? `listing-${i}` : `k${'x'.repeat(i % 7)}${i}é`;
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        assert.equal(partitionForKey(key, partitions), expected, `${key} over ${partitions}`);
      }
    }
  });
});
