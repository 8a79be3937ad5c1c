/**
 * Search benchmark (issue: search view): catch-up indexing throughput of the Elasticsearch projector over N
 * events (default 1,000,000; events/s), side by side with the Tidemark Postgres projector over the same events;
 * then search latency p50/p99 over M listings (default 100,000) for a fixed query mix, side by side in the same
 * run with Postgres full-text search (a stored tsvector with a GIN index) over the same documents.
 *
 *   npm run build && node test/dist/bench/search.bench.js [--events 1000000] [--listings 100000] ...   (--help)
 *
 * Catch-up: read-path.bench.js runs as a child (`--phases tidemark --projections listing-search,listing-detail`):
 * the same generated event log, a stack (broker child, Postgres, the embedded search server in the stack's
 * process), each projector in turn from offset 0 to the log end; the listing-search sink as `tidemark projector`
 * opens it (one _bulk per partition batch with refresh=wait_for, then the checkpoint).
 *
 * Search: a generated corpus (vocabulary of --vocabulary words with Zipf frequencies, titles like "Red road bike
 * 56 cm", categories, cities, log-normal prices) goes (a) into the listing-search index of an embedded search
 * server (a child process `tidemark search-server`, as Elasticsearch would be a separate server) through the
 * Elasticsearch sink's writeDocuments, and (b) into a Postgres table with the same fields plus a generated
 * weighted tsvector (GIN) and btree indexes. Each engine is then driven by --concurrency closed-loop clients over
 * the same seeded query sequence: the embedded server through the query API's own view
 * (createElasticsearchListingSearch: buildListingSearchRequest -> _search -> listingSearchResult), Postgres with
 * the equivalent SQL (page of 20; total and category facets from one GROUP BY). Before timing, a prefix of the
 * sequence runs on both and totals, facets and the hits of the sorted queries are compared.
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { partitionForKey } from '@tidemark/kafka';
import type { ListingSearchDocument, ListingViewStatus } from '@tidemark/listings-projections';
import { listingQueries, listingSearchProjection } from '@tidemark/listings-projections';
import { createElasticsearchSink } from '@tidemark/projection-elasticsearch';
import {
  buildSearchRequest,
  createElasticsearchSearchView,
  parseSearchParams,
  searchResult,
} from '@tidemark/query';
import type { SearchResult } from '@tidemark/sdk';
import { startSearchServer } from '@tidemark/search';
import { startStack } from '@tidemark/stack';
import pg from 'pg';
import pino from 'pino';
import { fmt, median, summarize } from './stats';

const CLI = resolve(__dirname, '../../../services/ops/bin/tidemark.js');
const READ_PATH_BENCH = resolve(__dirname, 'read-path.bench.js');
const PAGE_SIZE = 20;
const FACET_SIZE = 50;
const TABLE = 'search_bench_listings';

const HELP = `search.bench: Elasticsearch-projector catch-up (vs the Postgres projector) and search latency of the
embedded Elasticsearch-API search server vs Postgres full-text search (tsvector + GIN) over the same documents.

  node test/dist/bench/search.bench.js [options]

Options:
  --phases <list>         Any of catchup,search (default both)
  --events <n>            Catch-up: events in the log (default 1000000)
  --partitions <n>        Catch-up: partitions of listings.*; search: partitions of the documents' ids (default 8)
  --catchup-peer <name>   Catch-up: Tidemark projection run over the same log for the ratio (default
                          listing-detail, the Postgres projector; 'none' to skip)
  --listings <n>          Search: documents in each engine (default 100000)
  --vocabulary <n>        Search: words in the corpus vocabulary (default 3000; Zipf frequencies)
  --seed <n>              Search: seed of the corpus and of the query sequence (default 1)
  --seconds <n>           Search: measured seconds per engine (default 20)
  --warmup <n>            Search: unmeasured seconds per engine before that (default 3)
  --concurrency <n>       Search: closed-loop clients per engine (default 4)
  --verify <n>            Search: queries of the sequence run on both engines and compared first (default 200)
  --pg-match <or|and>     Postgres full-text semantics: 'or' (default) matches any query word, as the API's
                          multi_match does, via plainto_tsquery with & turned into |; 'and' uses
                          websearch_to_tsquery (every word; fewer matches, so totals differ from the API's)
  --search-mode <m>       'child' (default: tidemark search-server in its own process) or 'in-process'
  -h, --help              Show this text

Output: progress lines on stderr; markdown tables on stdout (events/s; per query type and overall p50/p99 ms and
queries/s; ratios embedded search / Postgres).
`;

// ------------------------------------------------------------------ corpus

/** mulberry32: a small seeded PRNG (deterministic corpus and query sequence). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const at = <T>(items: readonly T[], index: number): T => items[index] as T;

/** Samples indexes 0..n-1 with probability ~ 1 / (rank + 1)^s. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** s;
    cumulative[i] = sum;
  }
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Common description words, most frequent first (no stop-word lists on either side: both index them). */
const COMMON =
  `good condition used with and the for in very new original box works perfectly pickup only price
negotiable cash delivery possible excellent little some wear scratches clean smoke free home barely includes
manual cable extra like few months old year years bought selling because moving must go offers welcome no
shipping collect from city centre great quality hardly comes charger bag spare parts recently serviced fully
working tested sturdy light heavy small large comfortable solid beautiful rare complete set pair two three
four second hand owner careful use minor marks fits well size bigger smaller need space`
    .split(/\s+/)
    .filter(Boolean);

const COLORS = [
  'black',
  'white',
  'red',
  'blue',
  'green',
  'grey',
  'silver',
  'brown',
  'yellow',
  'orange',
  'pink',
];

interface Category {
  name: string;
  nouns: string[];
  modifiers: string[];
  /** Typical price in cents. */
  price: number;
  size?: (random: () => number) => string;
}

const CATEGORIES: Category[] = [
  {
    name: 'bikes',
    nouns: ['bike', 'bicycle', 'frame', 'wheel', 'saddle', 'helmet'],
    modifiers: ['road', 'mountain', 'city', 'electric', 'kids', 'folding', 'gravel'],
    price: 35_000,
    size: (r) => `${48 + Math.floor(r() * 15)} cm`,
  },
  {
    name: 'books',
    nouns: ['book', 'novel', 'cookbook', 'atlas', 'comic', 'textbook'],
    modifiers: ['hardcover', 'paperback', 'vintage', 'signed', 'illustrated'],
    price: 1_200,
  },
  {
    name: 'furniture',
    nouns: ['chair', 'table', 'sofa', 'desk', 'cabinet', 'bookcase', 'bed', 'lamp'],
    modifiers: ['oak', 'pine', 'leather', 'vintage', 'modern', 'folding', 'teak'],
    price: 15_000,
    size: (r) => `${60 + 10 * Math.floor(r() * 15)} cm`,
  },
  {
    name: 'electronics',
    nouns: ['speaker', 'amplifier', 'headphones', 'radio', 'television', 'projector'],
    modifiers: ['wireless', 'bluetooth', 'portable', 'digital', 'smart'],
    price: 12_000,
  },
  {
    name: 'phones',
    nouns: ['phone', 'smartphone', 'charger', 'case'],
    modifiers: ['unlocked', 'refurbished', 'dual', 'waterproof'],
    price: 25_000,
    size: (r) => `${64 * 2 ** Math.floor(r() * 4)} gb`,
  },
  {
    name: 'cameras',
    nouns: ['camera', 'lens', 'tripod', 'flash'],
    modifiers: ['digital', 'analog', 'mirrorless', 'compact', 'zoom'],
    price: 30_000,
    size: (r) => `${[24, 35, 50, 85, 200][Math.floor(r() * 5)]} mm`,
  },
  {
    name: 'clothing',
    nouns: ['jacket', 'coat', 'dress', 'shirt', 'jeans', 'sweater'],
    modifiers: ['wool', 'cotton', 'winter', 'summer', 'vintage', 'leather'],
    price: 3_500,
    size: (r) => `size ${['xs', 's', 'm', 'l', 'xl'][Math.floor(r() * 5)]}`,
  },
  {
    name: 'shoes',
    nouns: ['sneakers', 'boots', 'sandals', 'shoes'],
    modifiers: ['running', 'hiking', 'leather', 'winter'],
    price: 4_500,
    size: (r) => `size ${36 + Math.floor(r() * 11)}`,
  },
  {
    name: 'toys',
    nouns: ['puzzle', 'doll', 'train', 'blocks', 'lego', 'car'],
    modifiers: ['wooden', 'electric', 'kids', 'complete'],
    price: 2_000,
  },
  {
    name: 'garden',
    nouns: ['mower', 'hose', 'planter', 'barbecue', 'shed', 'trimmer'],
    modifiers: ['electric', 'petrol', 'cordless', 'wooden'],
    price: 9_000,
  },
  {
    name: 'tools',
    nouns: ['drill', 'saw', 'hammer', 'toolbox', 'ladder', 'sander'],
    modifiers: ['cordless', 'electric', 'professional', 'heavy'],
    price: 6_000,
    size: (r) => `${12 + 6 * Math.floor(r() * 3)} volt`,
  },
  {
    name: 'music',
    nouns: ['guitar', 'piano', 'keyboard', 'drum', 'violin', 'vinyl'],
    modifiers: ['acoustic', 'electric', 'digital', 'vintage', 'bass'],
    price: 20_000,
  },
  {
    name: 'sports',
    nouns: ['skis', 'snowboard', 'racket', 'ball', 'tent', 'kayak'],
    modifiers: ['tennis', 'camping', 'carbon', 'inflatable', 'kids'],
    price: 8_000,
    size: (r) => `${150 + 5 * Math.floor(r() * 8)} cm`,
  },
  {
    name: 'kitchen',
    nouns: ['mixer', 'kettle', 'pan', 'knife', 'blender', 'espresso'],
    modifiers: ['stainless', 'electric', 'cast', 'iron', 'ceramic'],
    price: 5_000,
  },
  {
    name: 'computers',
    nouns: ['laptop', 'monitor', 'keyboard', 'mouse', 'printer', 'tablet'],
    modifiers: ['gaming', 'wireless', 'refurbished', 'mechanical', 'curved'],
    price: 40_000,
    size: (r) => `${[13, 14, 15, 24, 27][Math.floor(r() * 5)]} inch`,
  },
  {
    name: 'games',
    nouns: ['console', 'controller', 'game', 'boardgame'],
    modifiers: ['retro', 'wireless', 'complete', 'sealed'],
    price: 6_000,
  },
  {
    name: 'art',
    nouns: ['painting', 'print', 'poster', 'sculpture', 'mirror'],
    modifiers: ['framed', 'abstract', 'original', 'vintage', 'large'],
    price: 7_500,
    size: (r) => `${30 + 10 * Math.floor(r() * 9)} cm`,
  },
  {
    name: 'baby',
    nouns: ['stroller', 'crib', 'carseat', 'highchair', 'playpen'],
    modifiers: ['foldable', 'wooden', 'travel', 'complete'],
    price: 9_000,
  },
  {
    name: 'pets',
    nouns: ['cage', 'aquarium', 'kennel', 'leash', 'scratcher'],
    modifiers: ['large', 'small', 'glass', 'wooden'],
    price: 3_000,
    size: (r) => `${40 + 20 * Math.floor(r() * 5)} litre`,
  },
  {
    name: 'cars',
    nouns: ['tyres', 'roofbox', 'trailer', 'wheels', 'rack'],
    modifiers: ['winter', 'summer', 'alloy', 'universal'],
    price: 20_000,
    size: (r) => `${15 + Math.floor(r() * 5)} inch`,
  },
];

const CITIES: { city: string; country: string }[] = [
  ['Amsterdam', 'NL'],
  ['Rotterdam', 'NL'],
  ['Utrecht', 'NL'],
  ['Berlin', 'DE'],
  ['Antwerp', 'BE'],
  ['Eindhoven', 'NL'],
  ['Groningen', 'NL'],
  ['Hamburg', 'DE'],
  ['Brussels', 'BE'],
  ['Tilburg', 'NL'],
  ['Almere', 'NL'],
  ['Breda', 'NL'],
  ['Nijmegen', 'NL'],
  ['Cologne', 'DE'],
  ['Ghent', 'BE'],
  ['Haarlem', 'NL'],
  ['Arnhem', 'NL'],
  ['Munich', 'DE'],
  ['Leiden', 'NL'],
  ['Maastricht', 'NL'],
  ['Dordrecht', 'NL'],
  ['Zwolle', 'NL'],
  ['Leuven', 'BE'],
  ['Delft', 'NL'],
  ['Deventer', 'NL'],
].map(([city, country]) => ({ city: city as string, country: country as string }));

const BASE_TIME = Date.parse('2025-01-01T00:00:00.000Z');
const YEAR_MS = 365 * 24 * 3600 * 1000;

interface Corpus {
  /** Every word: common words, then category words, then generated ones (Zipf rank order). */
  vocabulary: string[];
  brands: string[][];
  cityRank: () => number;
  categoryRank: () => number;
  random: () => number;
}

function makeCorpus(vocabularySize: number, seed: number): Corpus {
  const random = rng(seed);
  const words: string[] = [];
  const seen = new Set<string>();
  const add = (w: string) => {
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  };
  for (const w of COMMON) add(w);
  for (const w of COLORS) add(w);
  for (const c of CATEGORIES) for (const w of [...c.nouns, ...c.modifiers]) add(w);
  // Pronounceable made-up words (letters only: both analysers keep them as one lower-case token).
  const syllables =
    'ba be bi bo da de di do fa fe fi ka ke ki ko la le li lo ma me mi mo na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi za zo ber dan gor kin lur mar nel pol ros tan vin zel'.split(
      ' ',
    );
  const wordRandom = rng(seed ^ 0x5eed);
  while (words.length < vocabularySize) {
    const n = 2 + Math.floor(wordRandom() * 2);
    let w = '';
    for (let i = 0; i < n; i++) w += at(syllables, Math.floor(wordRandom() * syllables.length));
    add(w);
  }
  const vocabulary = words.slice(0, Math.max(vocabularySize, words.length));
  // Brands: 12 per category, from the rarer part of the vocabulary.
  const start = Math.min(300, Math.floor(vocabulary.length / 2));
  const brands = CATEGORIES.map((_, c) =>
    Array.from({ length: 12 }, (_, b) =>
      at(vocabulary, start + ((c * 12 + b) % (vocabulary.length - start))),
    ),
  );
  return {
    vocabulary,
    brands,
    cityRank: zipf(CITIES.length, 1, random),
    categoryRank: zipf(CATEGORIES.length, 0.7, random),
    random,
  };
}

const capitalize = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The listings, deterministic for (count, vocabulary, seed). */
function* listings(count: number, corpus: Corpus): Generator<ListingSearchDocument> {
  const { random, vocabulary } = corpus;
  const word = zipf(vocabulary.length, 1, random);
  const small = zipf(12, 1, random);
  for (let i = 0; i < count; i++) {
    const c = corpus.categoryRank();
    const category = at(CATEGORIES, c);
    const noun = at(category.nouns, small() % category.nouns.length);
    const parts: string[] = [];
    if (random() < 0.5) parts.push(at(COLORS, small() % COLORS.length));
    if (random() < 0.6) parts.push(at(category.modifiers, small() % category.modifiers.length));
    if (random() < 0.5) parts.push(capitalize(at(at(corpus.brands, c), small())));
    parts.push(noun);
    if (category.size && random() < 0.7) parts.push(category.size(random));
    const title = capitalize(parts.join(' '));
    const length = 12 + Math.floor(random() * 30);
    const description: string[] = [];
    for (let k = 0; k < length; k++) {
      // Now and then the listing's own words, otherwise the corpus' Zipf distribution.
      const roll = random();
      description.push(roll < 0.05 ? noun : roll < 0.08 ? category.name : at(vocabulary, word()));
    }
    const { city, country } = at(CITIES, corpus.cityRank());
    const price = Math.max(100, Math.round((category.price * Math.exp(0.8 * gaussian(random))) / 100) * 100);
    const roll = random();
    const status: ListingViewStatus = roll < 0.8 ? 'active' : roll < 0.92 ? 'sold' : 'withdrawn';
    const publishedAt = new Date(BASE_TIME + Math.floor(random() * YEAR_MS)).toISOString();
    yield {
      id: `bench-l-${i}`,
      sellerId: `seller-${i % 5000}`,
      title,
      description: `${capitalize(description.join(' '))}.`,
      category: category.name,
      priceCents: price,
      currency: 'EUR',
      city,
      country,
      status,
      publishedAt,
      updatedAt: publishedAt,
      version: 1,
    };
  }
}

// ------------------------------------------------------------------ the query mix

const QUERY_TYPES = [
  { name: 'text + status active', weight: 30 },
  { name: 'text + category + price range', weight: 20 },
  { name: 'text + city, sorted by price', weight: 15 },
  { name: 'text, any status (category facets)', weight: 15 },
  { name: 'browse category, newest first', weight: 20 },
] as const;

/** A listing search as the benchmark states it (both engines answer it; the search route takes the same names). */
interface ListingSearchParams {
  q?: string;
  category?: string;
  minPrice?: number;
  maxPrice?: number;
  city?: string;
  country?: string;
  status: ListingViewStatus | 'any';
  from: number;
  size: number;
  sort: 'relevance' | 'price_asc' | 'price_desc' | 'newest';
}

type ListingSearchResult = SearchResult<ListingSearchDocument, 'listing'>;

interface BenchQuery {
  type: number;
  params: ListingSearchParams;
}

/** What users type: one or two words, mostly category nouns, colours, modifiers, brands, some description words. */
function queryText(corpus: Corpus, random: () => number, words: () => number): string {
  const one = () => {
    const roll = random();
    const c = corpus.categoryRank();
    const category = at(CATEGORIES, c);
    if (roll < 0.45) return at(category.nouns, Math.floor(random() * category.nouns.length));
    if (roll < 0.65) return at(category.modifiers, Math.floor(random() * category.modifiers.length));
    if (roll < 0.75) return at(COLORS, Math.floor(random() * COLORS.length));
    if (roll < 0.85) return at(at(corpus.brands, c), Math.floor(random() * 12));
    return at(corpus.vocabulary, words());
  };
  return random() < 0.6 ? one() : `${one()} ${one()}`;
}

function querySequence(count: number, corpus: Corpus, seed: number): BenchQuery[] {
  const random = rng(seed ^ 0x9e3779b9);
  const words = zipf(corpus.vocabulary.length, 1, random);
  const totalWeight = QUERY_TYPES.reduce((sum, t) => sum + t.weight, 0);
  const base = { status: 'active' as const, from: 0, size: PAGE_SIZE, sort: 'relevance' as const };
  const out: BenchQuery[] = [];
  for (let i = 0; i < count; i++) {
    let roll = random() * totalWeight;
    let type = 0;
    while (roll >= at(QUERY_TYPES, type).weight) {
      roll -= at(QUERY_TYPES, type).weight;
      type++;
    }
    const category = at(CATEGORIES, corpus.categoryRank());
    const q = queryText(corpus, random, words);
    let params: ListingSearchParams;
    switch (type) {
      case 0:
        params = { ...base, q };
        break;
      case 1: {
        const low = Math.round((category.price * (0.3 + random() * 0.5)) / 100) * 100;
        params = { ...base, q, category: category.name, minPrice: low, maxPrice: low * 3 };
        break;
      }
      case 2:
        params = { ...base, q, city: at(CITIES, corpus.cityRank()).city, sort: 'price_asc' };
        break;
      case 3:
        params = { ...base, q, status: 'any' };
        break;
      default:
        params = { ...base, category: category.name, sort: 'newest' };
    }
    out.push({ type, params });
  }
  return out;
}

// ------------------------------------------------------------------ engines

interface Engine {
  name: string;
  search(params: ListingSearchParams): Promise<ListingSearchResult>;
  close(): Promise<void>;
}

async function startSearchChild(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'search-server',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--refresh-interval-ms',
      '1000',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((ready, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /search-server ready (\S+)/.exec(out);
      if (match) ready(match[1] as string);
    });
    child.once('exit', (code) => fail(new Error(`tidemark search-server exited (${code})`)));
    setTimeout(() => fail(new Error('tidemark search-server was not ready within 60 s')), 60_000).unref();
  });
  return { url, child };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

/** Loads the documents through the Elasticsearch sink (the index, ids and `_source` the projector writes). */
async function loadSearch(node: string, docs: ListingSearchDocument[], partitions: number): Promise<number> {
  const sink = createElasticsearchSink(listingSearchProjection, { node, partitions });
  const started = performance.now();
  try {
    await sink.prepare();
    const byPartition: ListingSearchDocument[][] = Array.from({ length: partitions }, () => []);
    for (const doc of docs) at(byPartition, partitionForKey(doc.id, partitions)).push(doc);
    const batch = 2000;
    let loaded = 0;
    let last = 0;
    // One writer per partition (the projector's shape), each a _bulk of `batch` documents at a time.
    await Promise.all(
      byPartition.map(async (items, partition) => {
        for (let i = 0; i < items.length; i += batch) {
          const writes = items.slice(i, i + batch).map((doc) => ({ key: doc.id, doc, position: 1 }));
          await sink.writeDocuments(partition, writes);
          loaded += writes.length;
          if (performance.now() - last > 2000) {
            last = performance.now();
            process.stderr.write(
              `  search server: ${loaded.toLocaleString('en')}/${docs.length.toLocaleString('en')} documents\n`,
            );
          }
        }
      }),
    );
    await sink.client.indices.refresh({ index: sink.names.index });
    return (performance.now() - started) / 1000;
  } finally {
    await sink.close();
  }
}

/** The query API's own search path: the route's parameters validated, the request built, the answer mapped. */
function searchEngine(node: string, partitions: number): Engine {
  const query = listingQueries.queries.search;
  const view = createElasticsearchSearchView({ definition: listingSearchProjection, node, partitions });
  return {
    name: 'embedded search',
    async search(params) {
      const raw = Object.fromEntries(
        Object.entries(params).flatMap(([name, value]) =>
          value === undefined ? [] : [[name, String(value)]],
        ),
      );
      const answer = await view.search(buildSearchRequest(query, parseSearchParams(query, raw)));
      return searchResult(query, answer);
    },
    close: () => view.close(),
  };
}

async function loadPostgres(
  pool: pg.Pool,
  docs: ListingSearchDocument[],
): Promise<{ insertSeconds: number; indexSeconds: number }> {
  await pool.query(`drop table if exists ${TABLE}`);
  await pool.query(`create table ${TABLE} (
    id text primary key,
    seller_id text not null,
    title text not null,
    description text not null,
    category text not null,
    price_cents bigint not null,
    currency text not null,
    city text not null,
    country text not null,
    status text not null,
    published_at timestamptz not null,
    updated_at timestamptz not null,
    version integer not null,
    tsv tsvector generated always as
      (setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', description), 'B')) stored
  )`);
  const started = performance.now();
  const batch = 2000;
  const column = <K extends keyof ListingSearchDocument>(rows: ListingSearchDocument[], key: K) =>
    rows.map((r) => r[key]);
  let next = 0;
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < docs.length) {
        const rows = docs.slice(next, next + batch);
        next += batch;
        await pool.query(
          `insert into ${TABLE} (id, seller_id, title, description, category, price_cents, currency, city, country,
             status, published_at, updated_at, version)
           select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
             $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::int[])`,
          [
            column(rows, 'id'),
            column(rows, 'sellerId'),
            column(rows, 'title'),
            column(rows, 'description'),
            column(rows, 'category'),
            column(rows, 'priceCents'),
            column(rows, 'currency'),
            column(rows, 'city'),
            column(rows, 'country'),
            column(rows, 'status'),
            column(rows, 'publishedAt'),
            column(rows, 'updatedAt'),
            column(rows, 'version'),
          ],
        );
      }
    }),
  );
  const inserted = performance.now();
  // The search index and the filter/sort columns (the embedded server indexes every mapped field).
  for (const ddl of [
    `create index ${TABLE}_tsv on ${TABLE} using gin (tsv)`,
    `create index ${TABLE}_category on ${TABLE} (category)`,
    `create index ${TABLE}_status on ${TABLE} (status)`,
    `create index ${TABLE}_price on ${TABLE} (price_cents)`,
    `create index ${TABLE}_city on ${TABLE} (city)`,
    `create index ${TABLE}_published on ${TABLE} (published_at)`,
  ]) {
    await pool.query(ddl);
  }
  await pool.query(`vacuum analyze ${TABLE}`);
  return { insertSeconds: (inserted - started) / 1000, indexSeconds: (performance.now() - inserted) / 1000 };
}

interface PgRow {
  id: string;
  seller_id: string;
  title: string;
  description: string;
  category: string;
  price_cents: string;
  currency: string;
  city: string;
  country: string;
  status: ListingViewStatus;
  published_at: Date;
  updated_at: Date;
  version: number;
  score?: number;
}

/** The same search in SQL: a page (ts_rank_cd or the sort), then total + category facets from one GROUP BY. */
function postgresEngine(pool: pg.Pool, match: 'or' | 'and'): Engine {
  const tsquery = (p: string) =>
    match === 'or'
      ? `replace(plainto_tsquery('simple', ${p})::text, ' & ', ' | ')::tsquery`
      : `websearch_to_tsquery('simple', ${p})`;
  return {
    name: 'Postgres FTS',
    async search(params) {
      const where: string[] = [];
      const values: unknown[] = [];
      const arg = (value: unknown) => {
        values.push(value);
        return `$${values.length}`;
      };
      let query: string | undefined;
      if (params.q !== undefined) {
        query = tsquery(arg(params.q));
        where.push(`tsv @@ ${query}`);
      }
      if (params.status !== 'any') where.push(`status = ${arg(params.status)}`);
      if (params.category !== undefined) where.push(`category = ${arg(params.category)}`);
      if (params.city !== undefined) where.push(`city = ${arg(params.city)}`);
      if (params.country !== undefined) where.push(`country = ${arg(params.country)}`);
      if (params.minPrice !== undefined) where.push(`price_cents >= ${arg(params.minPrice)}`);
      if (params.maxPrice !== undefined) where.push(`price_cents <= ${arg(params.maxPrice)}`);
      const filter = where.length > 0 ? `where ${where.join(' and ')}` : '';
      const relevance = params.sort === 'relevance' && query !== undefined;
      const order = {
        relevance: relevance ? 'score desc, id collate "C"' : 'id collate "C"',
        price_asc: 'price_cents asc, id collate "C"',
        price_desc: 'price_cents desc, id collate "C"',
        newest: 'published_at desc, id collate "C"',
      }[params.sort];
      const client = await pool.connect();
      try {
        const page = await client.query<PgRow>(
          `select id, seller_id, title, description, category, price_cents, currency, city, country, status,
             published_at, updated_at, version${relevance ? `, ts_rank_cd(tsv, ${query}) as score` : ''}
           from ${TABLE} ${filter} order by ${order} limit ${params.size} offset ${params.from}`,
          values,
        );
        const facets = await client.query<{ category: string; n: number; total: string }>(
          `select category, count(*)::int as n, sum(count(*)) over () as total from ${TABLE} ${filter}
           group by category order by n desc, category collate "C" limit ${FACET_SIZE}`,
          values,
        );
        return {
          total: facets.rows.length > 0 ? Number(at(facets.rows, 0).total) : 0,
          hits: page.rows.map((r) => ({
            id: r.id,
            score: relevance ? Number(r.score) : null,
            listing: {
              id: r.id,
              sellerId: r.seller_id,
              title: r.title,
              description: r.description,
              category: r.category,
              priceCents: Number(r.price_cents),
              currency: r.currency,
              city: r.city,
              country: r.country,
              status: r.status,
              publishedAt: r.published_at.toISOString(),
              updatedAt: r.updated_at.toISOString(),
              version: r.version,
            },
          })),
          facets: { category: facets.rows.map((r) => ({ key: r.category, count: r.n })) },
        };
      } finally {
        client.release();
      }
    },
    close: async () => {},
  };
}

// ------------------------------------------------------------------ measuring

interface EngineRun {
  engine: string;
  seconds: number;
  perType: { count: number; p50: number; p99: number; rate: number }[];
  overall: { count: number; p50: number; p99: number; rate: number };
  errors: number;
  firstError?: string;
}

async function drive(
  engine: Engine,
  sequence: BenchQuery[],
  concurrency: number,
  warmupSeconds: number,
  seconds: number,
): Promise<EngineRun> {
  const samples: number[][] = QUERY_TYPES.map(() => []);
  let errors = 0;
  let firstError: string | undefined;
  const stride = Math.floor(sequence.length / Math.max(1, concurrency));
  const loop = async (client: number, deadline: number, measure: boolean) => {
    // Each client walks the shared sequence from its own offset (the same offsets for both engines).
    for (let i = client * stride; performance.now() < deadline; i++) {
      const query = at(sequence, i % sequence.length);
      const t0 = performance.now();
      try {
        await engine.search(query.params);
        if (measure) at(samples, query.type).push(performance.now() - t0);
      } catch (error) {
        if (measure) errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  if (warmupSeconds > 0) {
    const warm = performance.now() + warmupSeconds * 1000;
    // Warm-up from the other end of the sequence: the measured queries are not pre-answered.
    await Promise.all(Array.from({ length: concurrency }, (_, c) => loop(concurrency + c, warm, false)));
  }
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const timer = setInterval(() => {
    const done = samples.reduce((sum, s) => sum + s.length, 0);
    const elapsed = (performance.now() - started) / 1000;
    process.stderr.write(
      `  ${engine.name}: ${done.toLocaleString('en')} queries, ${fmt(done / elapsed, 0)}/s\n`,
    );
  }, 5000);
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, c) => loop(c, deadline, true)));
  } finally {
    clearInterval(timer);
  }
  const elapsed = (performance.now() - started) / 1000;
  const perType = samples.map((s) => {
    const sum = summarize(s);
    return { count: sum.count, p50: sum.p50, p99: sum.p99, rate: sum.count / elapsed };
  });
  const all = summarize(samples.flat());
  return {
    engine: engine.name,
    seconds: elapsed,
    perType,
    overall: { count: all.count, p50: all.p50, p99: all.p99, rate: all.count / elapsed },
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

interface Verification {
  queries: number;
  mismatches: string[];
  /** Median total per query type (how many documents each type matches). */
  totals: number[];
}

/** Runs a prefix of the sequence on both engines: totals, facets and the hits of sorted queries must agree. */
async function verify(a: Engine, b: Engine, sequence: BenchQuery[], count: number): Promise<Verification> {
  const mismatches: string[] = [];
  const totals: number[][] = QUERY_TYPES.map(() => []);
  const n = Math.min(count, sequence.length);
  for (let i = 0; i < n; i++) {
    const { type, params } = at(sequence, i);
    const [x, y] = await Promise.all([a.search(params), b.search(params)]);
    at(totals, type).push(x.total);
    const what = `#${i} ${JSON.stringify(params)}`;
    if (x.total !== y.total) mismatches.push(`${what}: total ${x.total} vs ${y.total}`);
    const fx = (x.facets.category ?? []).map((f) => `${f.key}:${f.count}`).join(',');
    const fy = (y.facets.category ?? []).map((f) => `${f.key}:${f.count}`).join(',');
    if (fx !== fy) mismatches.push(`${what}: facets ${fx} vs ${fy}`);
    if (params.sort !== 'relevance') {
      const hx = x.hits.map((h) => h.id).join(',');
      const hy = y.hits.map((h) => h.id).join(',');
      if (hx !== hy) mismatches.push(`${what}: hits ${hx} vs ${hy}`);
    } else if (x.hits.length !== y.hits.length) {
      mismatches.push(`${what}: ${x.hits.length} vs ${y.hits.length} hits`);
    }
  }
  return { queries: n, mismatches, totals: totals.map((t) => median(t)) };
}

// ------------------------------------------------------------------ catch-up (read-path.bench.js as a child)

interface CatchUpRow {
  name: string;
  store: string;
  events: number;
  rate: number;
  seconds: string;
  batchP50: string;
  batchP99: string;
  documents: string;
}

async function catchUp(events: number, partitions: number, projections: string[]): Promise<CatchUpRow[]> {
  const args = [
    READ_PATH_BENCH,
    '--phases',
    'tidemark',
    '--projections',
    projections.join(','),
    '--events',
    String(events),
    '--partitions',
    String(partitions),
  ];
  process.stderr.write(`catch-up: node ${args.join(' ')}\n`);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TIDEMARK_LOG_LEVEL: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
  if (code !== 0) throw new Error(`read-path.bench.js exited with ${code}:\n${out}`);
  const rows: CatchUpRow[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('| Tidemark ')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    rows.push({
      name: (cells[0] as string).replace(/^Tidemark /, ''),
      store: cells[1] as string,
      events: Number(cells[2]),
      rate: Number(cells[3]),
      seconds: cells[4] as string,
      batchP50: cells[5] as string,
      batchP99: cells[6] as string,
      documents: cells[7] as string,
    });
  }
  if (rows.length === 0) throw new Error(`no catch-up rows in read-path.bench.js's output:\n${out}`);
  return rows;
}

// ------------------------------------------------------------------ main

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer (got '${value}')`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phases: { type: 'string', default: 'catchup,search' },
      events: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '8' },
      'catchup-peer': { type: 'string', default: 'listing-detail' },
      listings: { type: 'string', default: '100000' },
      vocabulary: { type: 'string', default: '3000' },
      seed: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '4' },
      verify: { type: 'string', default: '200' },
      'pg-match': { type: 'string', default: 'or' },
      'search-mode': { type: 'string', default: 'child' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const phases = new Set(values.phases.split(',').map((s) => s.trim()));
  for (const phase of phases)
    if (phase !== 'catchup' && phase !== 'search')
      throw new Error(`--phases takes catchup and/or search (got '${phase}')`);
  const events = positiveInt('events', values.events);
  const partitions = Math.max(1, positiveInt('partitions', values.partitions));
  const peer = values['catchup-peer'].trim();
  const listingCount = positiveInt('listings', values.listings);
  const vocabularySize = Math.max(COMMON.length + 200, positiveInt('vocabulary', values.vocabulary));
  const seed = positiveInt('seed', values.seed);
  const seconds = positiveInt('seconds', values.seconds);
  const warmup = positiveInt('warmup', values.warmup);
  const concurrency = Math.max(1, positiveInt('concurrency', values.concurrency));
  const verifyCount = positiveInt('verify', values.verify);
  const pgMatch = values['pg-match'];
  if (pgMatch !== 'or' && pgMatch !== 'and') throw new Error(`--pg-match takes or or and (got '${pgMatch}')`);
  const searchMode = values['search-mode'];
  if (searchMode !== 'child' && searchMode !== 'in-process')
    throw new Error(`--search-mode takes child or in-process (got '${searchMode}')`);
  const reproduce = `node test/dist/bench/search.bench.js ${process.argv.slice(2).join(' ')}`.trim();
  const logger = pino({ level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' }, pino.destination(2));

  let catchUps: CatchUpRow[] = [];
  if (phases.has('catchup')) {
    catchUps = await catchUp(events, partitions, [
      'listing-search',
      ...(peer && peer !== 'none' ? [peer] : []),
    ]);
  }

  const runs: EngineRun[] = [];
  let verification: Verification | undefined;
  let load: { search: number; insert: number; index: number } | undefined;
  let corpusStats = '';
  if (phases.has('search')) {
    const corpus = makeCorpus(vocabularySize, seed);
    const docs = [...listings(listingCount, corpus)];
    const sequence = querySequence(10_000, corpus, seed);
    corpusStats = `${listingCount.toLocaleString('en')} listings, ${corpus.vocabulary.length.toLocaleString('en')}-word Zipf vocabulary, ${CATEGORIES.length} categories, ${CITIES.length} cities, seed ${seed}; e.g. "${at(docs, 0)?.title ?? ''}", "${at(docs, 1)?.title ?? ''}"`;
    const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-search-bench-'));
    await chmod(dataDir, 0o755);
    const stack = await startStack({
      dataDir: join(dataDir, 'stack'),
      components: ['postgres'],
      ports: { postgres: 0 },
      metricsPort: null,
      logger,
    });
    let child: ChildProcess | undefined;
    let inProcess: Awaited<ReturnType<typeof startSearchServer>> | undefined;
    const pool = new pg.Pool({ connectionString: stack.endpoints.postgres, max: concurrency + 2 });
    // An idle client whose server stops (the stack shuts Postgres down) emits 'error': not a crash.
    pool.on('error', () => undefined);
    try {
      let node: string;
      if (searchMode === 'child') {
        const started = await startSearchChild(join(dataDir, 'search'));
        child = started.child;
        node = started.url;
      } else {
        inProcess = await startSearchServer({
          dataDir: join(dataDir, 'search'),
          port: 0,
          refreshIntervalMs: 1000,
          logger: logger.child({ component: 'search' }),
        });
        node = inProcess.url;
      }
      process.stderr.write(`search server ${node} (${searchMode}), postgres ${stack.endpoints.postgres}\n`);
      const searchSeconds = await loadSearch(node, docs, partitions);
      process.stderr.write(
        `  loaded ${docs.length.toLocaleString('en')} documents into the search server in ${fmt(searchSeconds)} s\n`,
      );
      const pgLoad = await loadPostgres(pool, docs);
      process.stderr.write(
        `  loaded Postgres in ${fmt(pgLoad.insertSeconds)} s, indexed in ${fmt(pgLoad.indexSeconds)} s\n`,
      );
      load = { search: searchSeconds, insert: pgLoad.insertSeconds, index: pgLoad.indexSeconds };
      const engines = [searchEngine(node, partitions), postgresEngine(pool, pgMatch)];
      try {
        if (verifyCount > 0) {
          verification = await verify(at(engines, 0), at(engines, 1), sequence, verifyCount);
          process.stderr.write(
            `  verification: ${verification.queries} queries, ${verification.mismatches.length} mismatches\n`,
          );
        }
        for (const engine of engines) {
          process.stderr.write(
            `${engine.name}: ${concurrency} clients, ${warmup} s warm-up + ${seconds} s\n`,
          );
          runs.push(await drive(engine, sequence, concurrency, warmup, seconds));
        }
      } finally {
        for (const engine of engines) await engine.close();
      }
    } finally {
      await pool.end();
      if (child) await stopChild(child);
      await inProcess?.close();
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  // ---------------------------------------------------------------- report
  const out: string[] = [''];
  if (catchUps.length > 0) {
    out.push(
      `Catch-up: ${events.toLocaleString('en')} events (read-path.bench's log: listings x 5 events), ${partitions} partitions`,
      '',
      '| catch-up | store | events | events/s | seconds | batch p50 ms | batch p99 ms | documents |',
      '|---|---|---|---|---|---|---|---|',
      ...catchUps.map(
        (r) =>
          `| ${r.name} | ${r.store} | ${r.events} | ${fmt(r.rate, 0)} | ${r.seconds} | ${r.batchP50} | ${r.batchP99} | ${r.documents} |`,
      ),
      '',
    );
    const es = catchUps.find((r) => r.store === 'elasticsearch');
    const other = catchUps.find((r) => r.store !== 'elasticsearch');
    if (es) out.push(`Elasticsearch projector (embedded search server): ${fmt(es.rate, 0)} events/s`);
    if (es && other)
      out.push(
        `Elasticsearch projector / ${other.name} (${other.store}) projector: ${fmt(es.rate / other.rate, 2)}`,
      );
    out.push('');
  }
  if (runs.length > 0) {
    const [es, pgRun] = runs as [EngineRun, EngineRun];
    out.push(
      `Search: ${corpusStats}`,
      `${concurrency} clients per engine, ${seconds} s each (after ${warmup} s warm-up), the same seeded query sequence; page of ${PAGE_SIZE}, total, category facets (<= ${FACET_SIZE})`,
      `Embedded search: query API view (multi_match title^3/description, filters, terms agg), search server as a ${searchMode === 'child' ? 'child process' : 'part of this process'}. Postgres: tsvector('simple', title A || description B) stored + GIN, btree on category/status/price/city/published_at; ${pgMatch === 'or' ? 'plainto_tsquery with | (any word, as the API)' : 'websearch_to_tsquery (every word)'}, ts_rank_cd order; page + (count, GROUP BY category) = 2 statements`,
      '',
      '| query type | share | matches p50 | embedded p50 ms | p99 ms | q/s | Postgres p50 ms | p99 ms | q/s | p50 ratio | p99 ratio |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    const totalWeight = QUERY_TYPES.reduce((sum, t) => sum + t.weight, 0);
    QUERY_TYPES.forEach((t, i) => {
      const a = at(es.perType, i);
      const b = at(pgRun.perType, i);
      const matches = verification ? fmt(at(verification.totals, i), 0) : 'n/a';
      out.push(
        `| ${t.name} | ${fmt((100 * t.weight) / totalWeight, 0)}% | ${matches} | ${fmt(a.p50)} | ${fmt(a.p99)} | ${fmt(a.rate, 0)} | ${fmt(b.p50)} | ${fmt(b.p99)} | ${fmt(b.rate, 0)} | ${fmt(a.p50 / b.p50, 2)} | ${fmt(a.p99 / b.p99, 2)} |`,
      );
    });
    out.push(
      `| **overall** | 100% | | ${fmt(es.overall.p50)} | ${fmt(es.overall.p99)} | ${fmt(es.overall.rate, 0)} | ${fmt(pgRun.overall.p50)} | ${fmt(pgRun.overall.p99)} | ${fmt(pgRun.overall.rate, 0)} | ${fmt(es.overall.p50 / pgRun.overall.p50, 2)} | ${fmt(es.overall.p99 / pgRun.overall.p99, 2)} |`,
      '',
      `Embedded search / Postgres: p50 ${fmt(es.overall.p50 / pgRun.overall.p50, 2)}x, p99 ${fmt(es.overall.p99 / pgRun.overall.p99, 2)}x (latency; < 1: embedded search faster), throughput ${fmt(es.overall.rate / pgRun.overall.rate, 2)}x`,
      `Errors: embedded search ${es.errors}${es.firstError ? ` (${es.firstError})` : ''}, Postgres ${pgRun.errors}${pgRun.firstError ? ` (${pgRun.firstError})` : ''}`,
    );
    if (verification) {
      out.push(
        `Same answers: ${verification.queries} queries of the sequence on both engines, totals + facets (+ hits of the sorted queries) ${
          verification.mismatches.length === 0
            ? 'agree'
            : `DIFFER in ${verification.mismatches.length} cases${pgMatch === 'and' ? ' (expected with --pg-match and: Postgres then needs every word)' : ''}, e.g. ${verification.mismatches
                .slice(0, 2)
                .map((m) => (m.length > 240 ? `${m.slice(0, 240)}...` : m))
                .join('; ')}`
        }`,
      );
    }
    if (load) {
      out.push(
        `Loading (not timed above): search server ${fmt(load.search)} s (${fmt(listingCount / load.search, 0)} docs/s, _bulk of 2,000 per partition, refresh=wait_for); Postgres INSERT ${fmt(load.insert)} s + indexes ${fmt(load.index)} s`,
      );
    }
    out.push('');
  }
  out.push(`Reproduce: npm run build && ${reproduce}`, '');
  process.stdout.write(out.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
