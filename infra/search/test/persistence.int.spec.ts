import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { expectEsError, startChildServer, startTestServer, tempDir } from './support/test-server';

const MAPPINGS = { properties: { title: { type: 'text' as const }, n: { type: 'long' as const } } };

describe('persistence', () => {
  it('keeps indices, documents, versions, tombstones and aliases across a restart', async () => {
    const dir = tempDir();
    try {
      const first = await startTestServer({ dataDir: dir.path, refreshIntervalMs: 0 });
      await first.client.indices.create({ index: 'keep', mappings: MAPPINGS });
      await first.client.indices.updateAliases({ actions: [{ add: { index: 'keep', alias: 'kept' } }] });
      await first.client.index({
        index: 'keep',
        id: '1',
        version: 7,
        version_type: 'external',
        document: { title: 'seven', n: 7 },
      });
      await first.client.index({ index: 'keep', id: '2', document: { title: 'two', n: 2 } });
      await first.client
        .delete({ index: 'keep', id: '3', version: 9, version_type: 'external' })
        .catch(() => undefined);
      await first.stop();

      const second = await startTestServer({ dataDir: dir.path, refreshIntervalMs: 0 });
      try {
        assert.equal((await second.client.get({ index: 'kept', id: '1' }))._version, 7);
        // Rebuilt searcher: everything stored is searchable after a restart.
        assert.equal((await second.client.count({ index: 'keep' })).count, 2);
        const hits = await second.client.search({ index: 'keep', query: { match: { title: 'seven' } } });
        assert.deepEqual(
          hits.hits.hits.map((h) => h._id),
          ['1'],
        );
        await expectEsError(
          () =>
            second.client.index({
              index: 'keep',
              id: '3',
              version: 8,
              version_type: 'external',
              document: {},
            }),
          409,
          'version_conflict_engine_exception',
        );
        assert.deepEqual(
          (await second.client.indices.getMapping({ index: 'keep' })).keep?.mappings.properties?.n,
          { type: 'long' },
        );
      } finally {
        await second.stop();
      }
    } finally {
      dir.remove();
    }
  });

  it('snapshots and truncates the log; a crash copy recovers from snapshot plus log', async () => {
    const dir = tempDir();
    const copy = tempDir();
    const first = await startTestServer({ dataDir: dir.path, refreshIntervalMs: 0, snapshotEveryOps: 100 });
    try {
      await first.client.indices.create({ index: 'snap', mappings: MAPPINGS });
      for (let round = 0; round < 5; round++) {
        const operations = Array.from({ length: 60 }, (_, i) => [
          {
            index: {
              _index: 'snap',
              _id: `d${i}`,
              version: round * 100 + i + 1,
              version_type: 'external' as const,
            },
          },
          { n: round },
        ]).flat();
        await first.client.bulk({ operations, refresh: true });
      }
      // Snapshots run in the background after a refresh: wait until one has replaced the older logs.
      const indexDir = join(dir.path, 'indices', readdirSync(join(dir.path, 'indices'))[0] ?? '');
      const deadline = Date.now() + 5000;
      for (;;) {
        const files = readdirSync(indexDir);
        if (files.includes('snapshot.json') && files.filter((f) => f.endsWith('.log')).length === 1) break;
        assert.ok(Date.now() < deadline, `no snapshot/truncation: ${files.join(',')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // This delete lands in the log after the snapshot; copying the directory now is a crash image.
      await first.client.delete({ index: 'snap', id: 'd0', version: 1000, version_type: 'external' });
      cpSync(dir.path, copy.path, { recursive: true });
    } finally {
      await first.stop();
      dir.remove();
    }
    const second = await startTestServer({ dataDir: copy.path, refreshIntervalMs: 0 });
    try {
      assert.equal((await second.client.count({ index: 'snap' })).count, 59);
      assert.equal((await second.client.get({ index: 'snap', id: 'd5' }))._version, 406);
      await expectEsError(
        () =>
          second.client.index({
            index: 'snap',
            id: 'd0',
            version: 999,
            version_type: 'external',
            document: {},
          }),
        409,
        'version_conflict_engine_exception',
      );
    } finally {
      await second.stop();
      copy.remove();
    }
  });

  it('acknowledged writes survive a SIGKILL of tidemark search-server; a torn log tail is dropped', async () => {
    const dir = tempDir();
    try {
      const child = await startChildServer(dir.path, ['--refresh-interval-ms', '0']);
      const client = new Client({ node: child.url });
      try {
        await client.indices.create({ index: 'crash', mappings: MAPPINGS });
        const writes = Array.from({ length: 200 }, (_, i) =>
          client.index({
            index: 'crash',
            id: `c${i}`,
            version: i + 1,
            version_type: 'external',
            document: { n: i },
          }),
        );
        await Promise.all(writes);
        await client.bulk({
          operations: Array.from({ length: 100 }, (_, i) => [
            { index: { _index: 'crash', _id: `b${i}` } },
            { n: i },
          ]).flat(),
        });
        await client.delete({ index: 'crash', id: 'c0', version: 500, version_type: 'external' });
      } catch (error) {
        await child.kill('SIGKILL');
        throw error;
      }
      const exit = await child.kill('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      await client.close();

      // A write torn by the crash: half a JSON line at the end of the log.
      const indexDir = join(dir.path, 'indices', readdirSync(join(dir.path, 'indices'))[0] ?? '');
      const log = readdirSync(indexDir).find((f) => f.endsWith('.log')) ?? '';
      appendFileSync(join(indexDir, log), '{"op":"index","id":"torn","v":1,"se');

      const restarted = await startChildServer(dir.path, ['--refresh-interval-ms', '0']);
      const again = new Client({ node: restarted.url });
      try {
        assert.equal((await again.count({ index: 'crash' })).count, 299);
        assert.equal((await again.get({ index: 'crash', id: 'c199' }))._version, 200);
        assert.equal(await again.exists({ index: 'crash', id: 'torn' }), false);
        await expectEsError(
          () =>
            again.index({ index: 'crash', id: 'c0', version: 499, version_type: 'external', document: {} }),
          409,
          'version_conflict_engine_exception',
        );
        // The log is writable again after the truncation.
        await again.index({ index: 'crash', id: 'after', document: { n: 1 }, refresh: true });
      } finally {
        await again.close();
        const stopped = await restarted.kill('SIGTERM');
        assert.equal(stopped.code, 0);
      }
    } finally {
      dir.remove();
    }
  });
});
