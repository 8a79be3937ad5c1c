import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Journal } from '../../src/storage/journal';

interface Rec {
  n: number;
  s?: string;
}

describe('Journal', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-journal-'));
  after(() => rm(root, { recursive: true, force: true }));
  let counter = 0;
  const fresh = () => join(root, `j${++counter}`, 'journal.jsonl');

  test('replays what was appended, in order', async () => {
    const path = fresh();
    const journal = await Journal.open<Rec>(path);
    assert.deepEqual(journal.replayed, []);
    await journal.append([{ n: 1 }, { n: 2, s: 'two\nlines' }]);
    await journal.append([{ n: 3 }]);
    await journal.close();

    const reopened = await Journal.open<Rec>(path);
    assert.deepEqual(reopened.replayed, [{ n: 1 }, { n: 2, s: 'two\nlines' }, { n: 3 }]);
    await reopened.close();
  });

  test('concurrent appends share fsyncs (group commit)', async () => {
    const path = fresh();
    let fsyncs = 0;
    const journal = await Journal.open<Rec>(path, { onFsync: () => fsyncs++ });
    await Promise.all(Array.from({ length: 100 }, (_, n) => journal.append([{ n }])));
    assert.ok(fsyncs <= 2, `expected at most 2 fsyncs for 100 concurrent appends, got ${fsyncs}`);
    await journal.close();
    const reopened = await Journal.open<Rec>(path);
    assert.deepEqual(
      reopened.replayed.map((r) => r.n),
      Array.from({ length: 100 }, (_, n) => n),
    );
    await reopened.close();
  });

  test('a torn last line is ignored and truncated', async () => {
    const path = fresh();
    const journal = await Journal.open<Rec>(path);
    await journal.append([{ n: 1 }, { n: 2 }]);
    await journal.close();
    await appendFile(path, '{"n":3,"s":"tor');

    const reopened = await Journal.open<Rec>(path);
    assert.deepEqual(reopened.replayed, [{ n: 1 }, { n: 2 }]);
    assert.equal(await readFile(path, 'utf8'), '{"n":1}\n{"n":2}\n');
    await reopened.append([{ n: 4 }]);
    await reopened.close();
    const again = await Journal.open<Rec>(path);
    assert.deepEqual(again.replayed, [{ n: 1 }, { n: 2 }, { n: 4 }]);
    await again.close();
  });

  test('unreadable trailing lines are dropped; an unreadable line before valid ones is corruption', async () => {
    const tail = fresh();
    await (await Journal.open<Rec>(tail)).close();
    await writeFile(tail, '{"n":1}\n\u0000\u0000\u0000\n');
    const j = await Journal.open<Rec>(tail);
    assert.deepEqual(j.replayed, [{ n: 1 }]);
    await j.close();
    assert.equal(await readFile(tail, 'utf8'), '{"n":1}\n');

    const corrupt = fresh();
    await (await Journal.open<Rec>(corrupt)).close();
    await writeFile(corrupt, '{"n":1}\n{"n":\n{"n":3}\n');
    await assert.rejects(Journal.open<Rec>(corrupt), /corrupt/);
  });

  test('compact replaces the content atomically; appends before it land first, after it in the new file', async () => {
    const path = fresh();
    const journal = await Journal.open<Rec>(path);
    await journal.append([{ n: 1 }, { n: 2 }]);
    const before = journal.append([{ n: 3 }]);
    const compaction = journal.compact([{ n: 100 }]);
    const afterCompaction = journal.append([{ n: 4 }]);
    await Promise.all([before, compaction, afterCompaction]);
    await journal.close();
    assert.equal(await readFile(path, 'utf8'), '{"n":100}\n{"n":4}\n');
    const reopened = await Journal.open<Rec>(path);
    assert.deepEqual(reopened.replayed, [{ n: 100 }, { n: 4 }]);
    await reopened.close();
  });

  test('appending after close rejects', async () => {
    const journal = await Journal.open<Rec>(fresh());
    await journal.close();
    await assert.rejects(journal.append([{ n: 1 }]), /closed/);
  });
});
