/**
 * Property-style check: random upserts/removes interleaved with queries, compared with a naive reference
 * implementation (linear scans) of filters, sort, totals and terms aggregations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuerySearcher } from '../../src/query';

const CATS = ['a', 'b', 'c', 'd'];
const WORDS = ['red', 'blue', 'bike', 'sofa', 'house', 'lamp'];

interface Doc {
  title: string;
  cat: string;
  price?: number;
  tags: string[];
}

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random upserts/removes keep search consistent with a naive reference', () => {
  for (const seed of [1, 2, 3]) {
    const rand = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const s = new QuerySearcher({
      properties: {
        title: { type: 'text' },
        cat: { type: 'keyword' },
        price: { type: 'long' },
        tags: { type: 'keyword' },
      },
    });
    const ref = new Map<string, { doc: Doc; order: number }>();
    let order = 0;
    for (let step = 0; step < 3000; step++) {
      const id = `d${Math.floor(rand() * 300)}`;
      if (rand() < 0.25) {
        s.remove(id);
        ref.delete(id);
      } else {
        const doc: Doc = {
          title: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(WORDS)).join(' '),
          cat: pick(CATS),
          tags: Array.from({ length: Math.floor(rand() * 3) }, () => pick(CATS)),
        };
        if (rand() < 0.8) doc.price = Math.floor(rand() * 1000);
        s.upsert(id, doc as unknown as Record<string, unknown>);
        ref.set(id, { doc, order: order++ });
      }
      if (step % 50 !== 0) continue;
      const lo = Math.floor(rand() * 800);
      const hi = lo + Math.floor(rand() * 400);
      const cat = pick(CATS);
      const word = pick(WORDS);
      const desc = rand() < 0.5;
      const result = s.search(
        {
          query: {
            bool: {
              filter: [{ range: { price: { gte: lo, lt: hi } } }],
              must_not: [{ term: { cat } }],
              should: [{ match: { title: word } }, { terms: { tags: ['a', 'b'] } }],
              minimum_should_match: 1,
            },
          },
          sort: [{ price: desc ? 'desc' : 'asc' }],
          size: 15,
          aggs: { t: { terms: { field: 'tags' } } },
        },
        {},
      );
      const expected = [...ref]
        .filter(
          ([, { doc }]) =>
            doc.price !== undefined &&
            doc.price >= lo &&
            doc.price < hi &&
            doc.cat !== cat &&
            (doc.title.split(' ').includes(word) || doc.tags.some((t) => t === 'a' || t === 'b')),
        )
        .sort(
          ([, x], [, y]) => ((x.doc.price ?? 0) - (y.doc.price ?? 0)) * (desc ? -1 : 1) || x.order - y.order,
        );
      assert.equal(result.total, expected.length, `seed ${seed} step ${step}`);
      assert.deepEqual(
        result.hits.map((h) => h.id),
        expected.slice(0, 15).map(([id]) => id),
        `seed ${seed} step ${step}`,
      );
      const counts = new Map<string, number>();
      for (const [, { doc }] of expected)
        for (const t of new Set(doc.tags)) counts.set(t, (counts.get(t) ?? 0) + 1);
      const buckets = [...counts]
        .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
        .map(([key, doc_count]) => ({ key, doc_count }));
      assert.deepEqual((result.aggregations as { t: { buckets: unknown } }).t.buckets, buckets);
      assert.equal(s.size, ref.size);
      assert.equal(
        s.count({ query: { match: { title: word } } }, {}),
        [...ref.values()].filter((r) => r.doc.title.split(' ').includes(word)).length,
      );
    }
  }
});

test('scores after updates equal scores of a freshly built index', () => {
  const mappings = { properties: { title: { type: 'text' as const } } };
  const rand = rng(7);
  const live = new Map<string, string>();
  const s = new QuerySearcher(mappings);
  for (let i = 0; i < 2000; i++) {
    const id = `d${Math.floor(rand() * 200)}`;
    if (rand() < 0.3) {
      s.remove(id);
      live.delete(id);
    } else {
      const title = Array.from(
        { length: 1 + Math.floor(rand() * 5) },
        () => WORDS[Math.floor(rand() * WORDS.length)],
      ).join(' ');
      s.upsert(id, { title });
      live.set(id, title);
    }
  }
  const fresh = new QuerySearcher(mappings);
  for (const [id, title] of live) fresh.upsert(id, { title });
  for (const q of ['red bike', 'sofa', 'lamp house blue']) {
    const body = { query: { match: { title: q } }, size: 300 };
    const a = new Map(s.search(body, {}).hits.map((h) => [h.id, h.score ?? 0]));
    const b = new Map(fresh.search(body, {}).hits.map((h) => [h.id, h.score ?? 0]));
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [id, score] of a)
      assert.ok(Math.abs(score - (b.get(id) ?? 0)) < 1e-9, `${q} ${id}: ${score} vs ${b.get(id)}`);
  }
});
