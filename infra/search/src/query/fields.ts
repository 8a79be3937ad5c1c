/**
 * Per-field indexes. `text` fields get one minisearch instance each (so BM25 statistics are per field, as
 * in Lucene); keyword/numeric/date/boolean fields get a `ValueIndex` (postings for term/terms/aggs, doc
 * values for sort/aggs, a sorted array for range).
 */
import MiniSearch from 'minisearch';
import type { FieldType, Mappings, NormalizerFilter } from '../engine/contracts';
import { stripOccurrence, tokenizeForIndex } from './analysis';
import { parseDate } from './dates';
import type { Normalize } from './normalizers';
import { compileNormalizer } from './normalizers';

export type FieldKind = 'text' | 'keyword' | 'numeric' | 'date' | 'boolean';
/** Normalised value: keyword → string; numeric, date (UTC millis), boolean (1/0) → number. */
export type Value = string | number;

export interface FieldDef {
  /** Name used in queries, e.g. `title.raw`. */
  readonly path: string;
  /** Where the value lives in `_source` (a multi-field reads its parent's value). */
  readonly sourcePath: string;
  readonly type: FieldType;
  readonly kind: FieldKind;
  /** The keyword normalizer; undefined when there is none (the common case costs one property check). */
  readonly normalize: Normalize | undefined;
}

function kindOf(type: FieldType): FieldKind {
  switch (type) {
    case 'text':
      return 'text';
    case 'keyword':
      return 'keyword';
    case 'date':
      return 'date';
    case 'boolean':
      return 'boolean';
    case 'long':
    case 'integer':
    case 'double':
    case 'float':
      return 'numeric';
  }
}

/** Only keyword fields have normalizers (the server refuses them elsewhere); an empty chain is no normalizer. */
function normalizerOf(
  type: FieldType,
  filters: readonly NormalizerFilter[] | undefined,
): Normalize | undefined {
  return type === 'keyword' && filters !== undefined && filters.length > 0
    ? compileNormalizer(filters)
    : undefined;
}

export function compileFields(mappings: Mappings): Map<string, FieldDef> {
  const out = new Map<string, FieldDef>();
  for (const [path, mapping] of Object.entries(mappings.properties)) {
    out.set(path, {
      path,
      sourcePath: path,
      type: mapping.type,
      kind: kindOf(mapping.type),
      normalize: normalizerOf(mapping.type, mapping.normalizer),
    });
    for (const [sub, subMapping] of Object.entries(mapping.fields ?? {})) {
      const subPath = `${path}.${sub}`;
      out.set(subPath, {
        path: subPath,
        sourcePath: path,
        type: subMapping.type,
        kind: kindOf(subMapping.type),
        normalize: normalizerOf(subMapping.type, subMapping.normalizer),
      });
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * All non-null leaf values at a dotted path, looking through arrays at any level (`location: [{city}]`)
 * and accepting literal dotted keys (`{"location.city": ...}`), as ES does.
 */
export function extractValues(source: Record<string, unknown>, path: string): unknown[] {
  const out: unknown[] = [];
  collect(source, path.split('.'), 0, out);
  return out;
}

function collect(node: unknown, segments: readonly string[], at: number, out: unknown[]): void {
  if (node === null || node === undefined) return;
  if (Array.isArray(node)) {
    for (const item of node) collect(item, segments, at, out);
    return;
  }
  if (at === segments.length) {
    out.push(node);
    return;
  }
  if (!isPlainObject(node)) return;
  let key = '';
  for (let end = at; end < segments.length; end++) {
    key = end === at ? (segments[at] as string) : `${key}.${segments[end]}`;
    if (Object.hasOwn(node, key)) collect(node[key], segments, end + 1, out);
  }
}

/**
 * Normalises a source or query value for a non-text field; `undefined` when it does not fit the type.
 * A keyword field's normalizer applies (the indexed term, and the query value of term/terms/range/match, as
 * in ES) unless `applyNormalizer` is false (ES uses a terms aggregation's `missing` value as given).
 */
export function normalizeValue(def: FieldDef, raw: unknown, applyNormalizer = true): Value | undefined {
  switch (def.kind) {
    case 'keyword':
    case 'text': {
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return undefined;
      const value = String(raw);
      return def.normalize === undefined || !applyNormalizer ? value : def.normalize(value);
    }
    case 'numeric': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
      // ES coerces decimals into integer fields by truncation.
      return def.type === 'long' || def.type === 'integer' ? Math.trunc(n) : n;
    }
    case 'date':
      return parseDate(raw);
    case 'boolean':
      if (raw === true || raw === 'true') return 1;
      if (raw === false || raw === 'false' || raw === '') return 0;
      return undefined;
  }
}

function compareValues(a: Value, b: Value): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Threshold of unsorted additions below which range queries scan them instead of merging. */
const PENDING_SCAN_LIMIT = 1024;

export class ValueIndex {
  /** term → live docs with that term (exact at all times). */
  readonly postings = new Map<Value, Set<number>>();
  /** doc → its distinct values, ascending; holds live docs only. */
  readonly docValues = new Map<number, Value[]>();
  multiValued = false;
  // Range structure: entries sorted by value; entries of removed docs linger until the next merge
  // (docs are never re-added under the same number, so an entry is valid iff its doc is live).
  private sortedValues: Value[] = [];
  private sortedDocs: number[] = [];
  private pending: Array<{ value: Value; doc: number }> = [];
  private dead = 0;

  constructor(readonly def: FieldDef) {}

  add(doc: number, values: readonly Value[]): void {
    if (values.length === 0) return;
    const unique = [...new Set(values)].sort(compareValues);
    if (unique.length > 1) this.multiValued = true;
    this.docValues.set(doc, unique);
    for (const value of unique) {
      let docs = this.postings.get(value);
      if (docs === undefined) {
        docs = new Set();
        this.postings.set(value, docs);
      }
      docs.add(doc);
      this.pending.push({ value, doc });
    }
  }

  remove(doc: number): void {
    const values = this.docValues.get(doc);
    if (values === undefined) return;
    this.docValues.delete(doc);
    for (const value of values) {
      const docs = this.postings.get(value);
      if (docs === undefined) continue;
      docs.delete(doc);
      if (docs.size === 0) this.postings.delete(value);
    }
    this.dead += values.length;
  }

  /** Live docs with a value within the bounds (undefined bound = open); each doc once. */
  range(
    lower: Value | undefined,
    lowerInclusive: boolean,
    upper: Value | undefined,
    upperInclusive: boolean,
  ) {
    if (
      this.pending.length > PENDING_SCAN_LIMIT ||
      this.dead > Math.max(PENDING_SCAN_LIMIT, this.sortedDocs.length / 4)
    )
      this.merge();
    const values = this.sortedValues;
    const from = lower === undefined ? 0 : lowerBound(values, lower, !lowerInclusive);
    const to = upper === undefined ? values.length : lowerBound(values, upper, upperInclusive);
    const inRange = (v: Value): boolean =>
      (lower === undefined || (lowerInclusive ? v >= lower : v > lower)) &&
      (upper === undefined || (upperInclusive ? v <= upper : v < upper));
    const pendingHits = this.pending.filter((p) => inRange(p.value) && this.docValues.has(p.doc));
    const cost = Math.max(0, to - from) + pendingHits.length;
    const docs = this.sortedDocs;
    const live = this.docValues;
    const dedupe = this.multiValued;
    function* iterate(): Generator<number> {
      const seen = dedupe ? new Set<number>() : undefined;
      for (let i = from; i < to; i++) {
        const doc = docs[i] as number;
        if (!live.has(doc)) continue;
        if (seen !== undefined) {
          if (seen.has(doc)) continue;
          seen.add(doc);
        }
        yield doc;
      }
      for (const p of pendingHits) {
        if (seen !== undefined) {
          if (seen.has(p.doc)) continue;
          seen.add(p.doc);
        }
        yield p.doc;
      }
    }
    const has = (doc: number): boolean => {
      const vs = this.docValues.get(doc);
      if (vs === undefined) return false;
      for (const v of vs) if (inRange(v)) return true;
      return false;
    };
    return { cost, docs: iterate, has };
  }

  private merge(): void {
    const live = this.docValues;
    const fresh = this.pending.filter((p) => live.has(p.doc)).sort((a, b) => compareValues(a.value, b.value));
    const values: Value[] = [];
    const docs: number[] = [];
    let i = 0;
    let j = 0;
    const oldValues = this.sortedValues;
    const oldDocs = this.sortedDocs;
    while (i < oldValues.length || j < fresh.length) {
      const takeOld =
        j >= fresh.length ||
        (i < oldValues.length &&
          compareValues(oldValues[i] as Value, (fresh[j] as { value: Value }).value) <= 0);
      if (takeOld) {
        const doc = oldDocs[i] as number;
        if (live.has(doc)) {
          values.push(oldValues[i] as Value);
          docs.push(doc);
        }
        i++;
      } else {
        const p = fresh[j] as { value: Value; doc: number };
        values.push(p.value);
        docs.push(p.doc);
        j++;
      }
    }
    this.sortedValues = values;
    this.sortedDocs = docs;
    this.pending = [];
    this.dead = 0;
  }
}

/** First index whose value is > v (after=true) or >= v (after=false). */
function lowerBound(values: readonly Value[], v: Value, after: boolean): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = values[mid] as Value;
    if (x < v || (after && x === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface TextDoc {
  id: number;
  v: string;
}

/** BM25 parameters of ES's default similarity; d=0 turns minisearch's BM25+ into plain BM25. */
const BM25 = { k: 1.2, b: 0.75, d: 0 };
/** minisearch multiplies by (k1 + 1), Lucene (since 8.0) does not; dividing gives ES's numbers. */
const BM25_NUMERATOR = BM25.k + 1;

export interface TextMatches {
  /** doc → BM25 score (sum over matched query terms, no boost). */
  readonly scores: Map<number, number>;
}

export class TextIndex {
  private readonly index: MiniSearch<TextDoc>;
  /** doc → its indexed text, needed for minisearch's exact `remove`. */
  private readonly indexed = new Map<number, string>();

  constructor(readonly def: FieldDef) {
    this.index = new MiniSearch<TextDoc>({
      fields: ['v'],
      idField: 'id',
      tokenize: tokenizeForIndex,
      processTerm: stripOccurrence,
      // Query terms arrive analysed already (see `search`), so the search side does no analysis.
      searchOptions: { bm25: BM25, tokenize: (s: string) => [s], processTerm: (t: string) => t },
      // We remove with `remove` (exact), never `discard`, so there is nothing to vacuum.
      autoVacuum: false,
    });
  }

  /** Docs with at least one token in the field (Lucene's per-field docCount). */
  get docCount(): number {
    return this.index.documentCount;
  }

  has(doc: number): boolean {
    return this.indexed.has(doc);
  }

  docs(): Iterable<number> {
    return this.indexed.keys();
  }

  add(doc: number, text: string): void {
    // A doc without tokens does not count for the field's statistics, as in Lucene.
    if (tokenizeForIndex(text).length === 0) return;
    this.index.add({ id: doc, v: text });
    this.indexed.set(doc, text);
  }

  remove(doc: number): void {
    const text = this.indexed.get(doc);
    if (text === undefined) return;
    this.indexed.delete(doc);
    // `remove` (re-tokenising the stored text) rather than `discard`: discard leaves the doc in each
    // term's df until a search or vacuum meets it (and drops only one occurrence per meeting), which
    // skews idf after updates; remove keeps the statistics exactly those of a freshly built index.
    this.index.remove({ id: doc, v: text });
  }

  /**
   * Scores docs matching at least `minMatch` of `terms` (already analysed; duplicates count twice, as
   * in a Lucene boolean query built from the same analysed text).
   */
  search(terms: readonly string[], minMatch: number): Map<number, number> {
    const out = new Map<number, number>();
    if (terms.length === 0) return out;
    const multiplicity = new Map<string, number>();
    for (const t of terms) multiplicity.set(t, (multiplicity.get(t) ?? 0) + 1);
    this.index.search(
      { queries: [...terms], combineWith: 'OR' },
      {
        // The filter receives every match; collecting here and returning false skips minisearch's
        // result array and sort, which we do not need.
        filter: (result) => {
          const matched = result.queryTerms;
          let count = 0;
          for (const t of matched) count += multiplicity.get(t) ?? 0;
          if (count >= minMatch) {
            // minisearch multiplies the summed score by the number of distinct matched terms; undo it.
            out.set(result.id as number, result.score / matched.length / BM25_NUMERATOR);
          }
          return false;
        },
      },
    );
    return out;
  }
}
