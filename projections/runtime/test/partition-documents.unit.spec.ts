import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DocumentWrite, Lookup, Sink } from '../src/contracts';
import { PartitionDocuments } from '../src/partition-documents';

type Doc = { n: number };

/** An in-memory sink that counts the keys it loads and fails its next commit on demand. */
class CountingSink implements Sink<Doc> {
  readonly store = 'postgres' as const;
  readonly docs = new Map<string, { doc: Doc | null; position: number }>();
  loadedKeys: string[] = [];
  failNextCommit = false;

  async prepare(): Promise<void> {}
  async checkpoints(): Promise<Map<number, number>> {
    return new Map();
  }
  async load(partition: number, keys: readonly string[]): Promise<Map<string, Lookup<Doc>>> {
    this.loadedKeys.push(...keys);
    return new Map(
      keys.map((key): [string, Lookup<Doc>] => {
        const stored = this.docs.get(key);
        return [key, stored ? { key, partition, ...stored } : 'absent'];
      }),
    );
  }
  async commit(_partition: number, writes: readonly DocumentWrite<Doc>[]): Promise<void> {
    if (this.failNextCommit) {
      this.failNextCommit = false;
      throw new Error('commit failed');
    }
    for (const write of writes) this.docs.set(write.key, { doc: write.doc, position: write.position });
  }
  async read(): Promise<Lookup<Doc>> {
    return 'absent';
  }
  async drop(): Promise<void> {}
  async close(): Promise<void> {}
}

const write = (key: string, n: number, position: number): DocumentWrite<Doc> => ({
  key,
  doc: { n },
  position,
});

describe('PartitionDocuments', () => {
  test('loads from the sink only the keys it did not write itself', async () => {
    const sink = new CountingSink();
    sink.docs.set('b', { doc: { n: 7 }, position: 3 });
    const documents = new PartitionDocuments(sink, 2, 10);
    await documents.commit([write('a', 1, 5)], 6);
    const loaded = await documents.load(['a', 'b', 'c']);
    assert.deepEqual(sink.loadedKeys, ['b', 'c']);
    assert.deepEqual(loaded.get('a'), { key: 'a', partition: 2, doc: { n: 1 }, position: 5 });
    assert.deepEqual(loaded.get('b'), { key: 'b', partition: 2, doc: { n: 7 }, position: 3 });
    assert.equal(loaded.get('c'), 'absent');
  });

  test('keeps the most recently written documents, up to its bound', async () => {
    const sink = new CountingSink();
    const documents = new PartitionDocuments(sink, 0, 2);
    await documents.commit([write('a', 1, 1), write('b', 1, 2)], 3);
    await documents.commit([write('a', 2, 3), write('c', 1, 4)], 5);
    await documents.load(['a', 'b', 'c']);
    assert.deepEqual(sink.loadedKeys, ['b'], 'b was written least recently');
  });

  test('a failed commit forgets every written document (the store is unknown)', async () => {
    const sink = new CountingSink();
    const documents = new PartitionDocuments(sink, 0, 10);
    await documents.commit([write('a', 1, 1)], 2);
    sink.failNextCommit = true;
    await assert.rejects(documents.commit([write('b', 1, 2)], 3), /commit failed/);
    await documents.load(['a', 'b']);
    assert.deepEqual(sink.loadedKeys, ['a', 'b']);
  });
});
