import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from './support/test-server';
import { expectEsError, startTestServer } from './support/test-server';

const MAPPINGS = { properties: { version: { type: 'keyword' as const } } };

describe('aliases', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ refreshIntervalMs: 0 });
    for (const index of ['view-v1', 'view-v2']) {
      await t.client.indices.create({ index, mappings: MAPPINGS });
      await t.client.index({ index, id: 'only', document: { version: index }, refresh: true });
    }
  });
  after(() => t.dispose());

  it('adds, reads, resolves and removes aliases', async () => {
    assert.deepEqual(
      await t.client.indices.updateAliases({ actions: [{ add: { index: 'view-v1', alias: 'view' } }] }),
      { acknowledged: true, errors: false },
    );
    assert.deepEqual(await t.client.indices.getAlias({ name: 'view' }), {
      'view-v1': { aliases: { view: {} } },
    });
    assert.deepEqual(await t.client.indices.getAlias({ index: 'view-v1' }), {
      'view-v1': { aliases: { view: {} } },
    });
    assert.equal(await t.client.indices.existsAlias({ name: 'view' }), true);
    assert.equal(await t.client.indices.existsAlias({ name: 'nope' }), false);
    assert.equal(await t.client.indices.exists({ index: 'view' }), true);
    // Reads and writes through the alias go to its index.
    const hit = (await t.client.search({ index: 'view' })).hits.hits[0];
    assert.equal(hit?._index, 'view-v1');
    const written = await t.client.index({ index: 'view', id: 'w', document: { version: 'x' } });
    assert.equal(written._index, 'view-v1');
    await t.client.delete({ index: 'view', id: 'w' });
    await expectEsError(() => t.client.indices.delete({ index: 'view' }), 400, 'illegal_argument_exception');
    await expectEsError(
      () => t.client.indices.updateAliases({ actions: [{ add: { index: 'missing', alias: 'x' } }] }),
      404,
      'index_not_found_exception',
    );
  });

  it('a failing action leaves every alias as it was (all or nothing)', async () => {
    await expectEsError(
      () =>
        t.client.indices.updateAliases({
          actions: [
            { remove: { index: 'view-v1', alias: 'view' } },
            { add: { index: 'view-v2', alias: 'view' } },
            { add: { index: 'does-not-exist', alias: 'view' } },
          ],
        }),
      404,
      'index_not_found_exception',
    );
    assert.deepEqual(await t.client.indices.getAlias({ name: 'view' }), {
      'view-v1': { aliases: { view: {} } },
    });
  });

  it('swaps atomically: concurrent searches always see exactly one index', async () => {
    let stop = false;
    const seen = new Set<string>();
    let searches = 0;
    const searchers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const response = await t.client.search({ index: 'view' });
        assert.equal(response.hits.hits.length, 1);
        seen.add(response.hits.hits[0]?._index ?? 'none');
        searches++;
      }
    });
    let current = 'view-v1';
    for (let swap = 0; swap < 30; swap++) {
      const next = current === 'view-v1' ? 'view-v2' : 'view-v1';
      await t.client.indices.updateAliases({
        actions: [{ remove: { index: current, alias: 'view' } }, { add: { index: next, alias: 'view' } }],
      });
      current = next;
      await new Promise((r) => setTimeout(r, 5));
    }
    stop = true;
    await Promise.all(searchers);
    assert.ok(searches > 30, `only ${searches} searches ran`);
    assert.deepEqual([...seen].sort(), ['view-v1', 'view-v2']);
  });

  it('writes to an alias over two indices need a write index', async () => {
    await t.client.indices.updateAliases({
      actions: [{ add: { index: 'view-v1', alias: 'both' } }, { add: { index: 'view-v2', alias: 'both' } }],
    });
    await expectEsError(
      () => t.client.index({ index: 'both', id: 'z', document: {} }),
      400,
      'illegal_argument_exception',
    );
    await t.client.indices.updateAliases({
      actions: [{ add: { index: 'view-v2', alias: 'both', is_write_index: true } }],
    });
    assert.equal((await t.client.index({ index: 'both', id: 'z', document: {} }))._index, 'view-v2');
    await expectEsError(() => t.client.search({ index: 'both' }), 400, 'illegal_argument_exception');
  });

  it('remove_index drops an index and moves the alias in one step', async () => {
    await t.client.indices.create({ index: 'old', mappings: MAPPINGS, aliases: { moving: {} } });
    await t.client.indices.create({ index: 'new', mappings: MAPPINGS });
    await t.client.indices.updateAliases({
      actions: [{ add: { index: 'new', alias: 'moving' } }, { remove_index: { index: 'old' } }],
    });
    assert.equal(await t.client.indices.exists({ index: 'old' }), false);
    assert.deepEqual(await t.client.indices.getAlias({ name: 'moving' }), {
      new: { aliases: { moving: {} } },
    });
  });
});
