/**
 * Micro-benchmark (not a test tier): 100k listings, a fixed query mix, p50/p99 per query.
 * Run after a build: node dist/test/query/query.bench.js
 */
import { performance } from 'node:perf_hooks';
import { QuerySearcher } from '../../src/query';

const WORDS =
  'red blue green black white road city mountain kids cargo electric bike helmet lock wheels shoes apartment studio house room garden sofa table chair lamp oak vintage modern compact spacious carbon aluminium leather velvet brass marble family office shared furnished canal view central quiet bright large small new used'.split(
    ' ',
  );
const CATEGORIES = [
  'bikes',
  'housing',
  'furniture',
  'accessories',
  'electronics',
  'garden',
  'fashion',
  'toys',
];
const CITIES = ['Amsterdam', 'Utrecht', 'Rotterdam', 'Den Haag', 'Eindhoven', 'Groningen', 'Leiden', 'Delft'];
const STATUSES = ['active', 'active', 'active', 'sold', 'reserved'];

let seed = 42;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
// Zipf vocabulary (exponent 1) of 20k words; the named words sit at ranks 100+, so each is in a few
// percent of descriptions, like "bike" in a real marketplace. (Put them at rank 0 and they behave like
// stop words in 90% of docs: see the worst-case line at the end.)
const VOCAB = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`);
VOCAB.splice(100, 0, ...WORDS);
const CUMULATIVE: number[] = [];
VOCAB.reduce((sum, _, i) => {
  CUMULATIVE.push(sum + 1 / (i + 1));
  return sum + 1 / (i + 1);
}, 0);
const word = (): string => {
  const target = rand() * (CUMULATIVE.at(-1) as number);
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((CUMULATIVE[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  return VOCAB[lo] as string;
};
const words = (n: number): string => Array.from({ length: n }, word).join(' ');

const s = new QuerySearcher({
  properties: {
    title: { type: 'text', fields: { raw: { type: 'keyword' } } },
    description: { type: 'text' },
    category: { type: 'keyword' },
    priceCents: { type: 'long' },
    status: { type: 'keyword' },
    'location.city': { type: 'keyword' },
    publishedAt: { type: 'date' },
  },
});
const N = 100_000;
let t0 = performance.now();
for (let i = 0; i < N; i++) {
  s.upsert(`l${i}`, {
    title: words(3 + Math.floor(rand() * 4)),
    description: words(15 + Math.floor(rand() * 30)),
    category: pick(CATEGORIES),
    priceCents: Math.floor(rand() * 500_000),
    status: pick(STATUSES),
    location: { city: pick(CITIES) },
    publishedAt: new Date(Date.UTC(2024, 0, 1) + Math.floor(rand() * 365 * 86_400_000)).toISOString(),
  });
}
console.log(`indexed ${N} docs in ${(performance.now() - t0).toFixed(0)} ms`);

const mix: Array<[string, Record<string, unknown>]> = [
  [
    'text title+description, filters category/price/status, facet',
    {
      query: {
        bool: {
          must: [{ multi_match: { query: 'red road bike', fields: ['title^2', 'description'] } }],
          filter: [
            { term: { category: 'bikes' } },
            { range: { priceCents: { gte: 10_000, lte: 200_000 } } },
            { term: { status: 'active' } },
          ],
        },
      },
      aggs: { by_category: { terms: { field: 'category' } } },
    },
  ],
  [
    'text only (2 rare-ish terms), facet',
    {
      query: { multi_match: { query: 'vintage brass lamp', fields: ['title^2', 'description'] } },
      aggs: { by_category: { terms: { field: 'category' } } },
    },
  ],
  [
    'filters only + sort by price + facet',
    {
      query: {
        bool: {
          filter: [{ term: { 'location.city': 'Utrecht' } }, { range: { priceCents: { lt: 50_000 } } }],
        },
      },
      sort: [{ priceCents: 'asc' }],
      aggs: { by_category: { terms: { field: 'category' } } },
    },
  ],
  [
    'selective filter: date range last week + status',
    {
      query: {
        bool: {
          filter: [
            { range: { publishedAt: { gte: '2024-12-24', lt: '2025-01-01' } } },
            { term: { status: 'sold' } },
          ],
        },
      },
      sort: [{ publishedAt: 'desc' }],
    },
  ],
  ['match_all facet only (size 0)', { size: 0, aggs: { by_category: { terms: { field: 'category' } } } }],
];

// Warm-up (also merges the range structures once after the bulk load).
for (const [, body] of mix) s.search(body, {});
const all: number[] = [];
for (const [name, body] of mix) {
  const times: number[] = [];
  let total = 0;
  for (let i = 0; i < 200; i++) {
    t0 = performance.now();
    total = s.search(body, {}).total;
    times.push(performance.now() - t0);
  }
  all.push(...times);
  times.sort((a, b) => a - b);
  const p = (q: number) => (times[Math.floor(q * (times.length - 1))] as number).toFixed(2);
  console.log(`${name}: total=${total} p50=${p(0.5)}ms p99=${p(0.99)}ms`);
}
all.sort((a, b) => a - b);
console.log(
  `mix overall: p50=${(all[Math.floor(all.length / 2)] as number).toFixed(2)}ms p99=${(all[Math.floor(all.length * 0.99)] as number).toFixed(2)}ms`,
);
{
  const worst = {
    query: { multi_match: { query: `${VOCAB[0]} ${VOCAB[1]}`, fields: ['title^2', 'description'] } },
  };
  const times: number[] = [];
  let total = 0;
  for (let i = 0; i < 20; i++) {
    t0 = performance.now();
    total = s.search(worst, {}).total;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `worst case, the two most frequent words: total=${total} p50=${(times[10] as number).toFixed(1)}ms`,
  );
}
// Incremental refresh: 1000 updates then the first query.
t0 = performance.now();
for (let i = 0; i < 1000; i++)
  s.upsert(`l${Math.floor(rand() * N)}`, {
    title: words(4),
    description: words(20),
    category: pick(CATEGORIES),
    priceCents: 1000,
    status: 'active',
    location: { city: 'Leiden' },
    publishedAt: '2024-06-01',
  });
const upd = performance.now() - t0;
t0 = performance.now();
s.search((mix[0] as [string, Record<string, unknown>])[1], {});
console.log(
  `1000 upserts: ${upd.toFixed(1)} ms; first mixed query after them: ${(performance.now() - t0).toFixed(2)} ms`,
);
