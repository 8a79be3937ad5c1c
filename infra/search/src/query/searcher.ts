/** The IndexSearcher: keeps the per-field indexes in step with upserts/removes and answers search/count. */
import type {
  CountParams,
  IndexSearcher,
  Mappings,
  SearcherFactory,
  SearchHit,
  SearchParams,
  SearchResult,
} from '../engine/contracts';
import { parseAggs, runAgg } from './aggs';
import type { IndexView } from './dsl';
import { QueryCompiler } from './dsl';
import { checkKeys, illegalArgument, isPlainObject, parsingError } from './errors';
import type { FieldDef, Value } from './fields';
import { compileFields, extractValues, normalizeValue, TextIndex, ValueIndex } from './fields';
import type { Matcher } from './matchers';
import type { SortSpec } from './sort';
import { compareKeys, fieldKey, parseSort, parseSortParam } from './sort';
import { topK } from './topk';

/** ES's index.max_result_window default. */
export const MAX_RESULT_WINDOW = 10_000;

const SEARCH_KEYS = [
  'query',
  'from',
  'size',
  'sort',
  'aggs',
  'aggregations',
  'track_scores',
  // Handled by the server (see contracts.ts); accepted and ignored here.
  '_source',
  'track_total_hits',
  'timeout',
];

interface DocRecord {
  readonly id: string;
  /** Internal doc number: grows with every upsert, so (like Lucene) an updated doc sorts after older ones on ties. */
  readonly doc: number;
  readonly source: Record<string, unknown>;
}

export interface SearcherOptions {
  /** Clock for `now` in date math (tests pin it). */
  now?: () => number;
}

function intParam(value: unknown, name: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw parsingError(`[${name}] must be an integer, got [${JSON.stringify(value)}]`);
  return n;
}

export class QuerySearcher implements IndexSearcher {
  private readonly fields: Map<string, FieldDef>;
  private readonly values = new Map<string, ValueIndex>();
  private readonly texts = new Map<string, TextIndex>();
  private readonly byId = new Map<string, DocRecord>();
  private readonly byDoc = new Map<number, DocRecord>();
  private nextDoc = 0;
  private readonly now: () => number;
  private readonly all: Matcher;

  constructor(mappings: Mappings, options: SearcherOptions = {}) {
    this.fields = compileFields(mappings);
    for (const def of this.fields.values()) {
      if (def.kind === 'text') this.texts.set(def.path, new TextIndex(def));
      else this.values.set(def.path, new ValueIndex(def));
    }
    this.now = options.now ?? Date.now;
    const byDoc = this.byDoc;
    this.all = {
      get cost() {
        return byDoc.size;
      },
      docs: () => byDoc.keys(),
      has: (d) => byDoc.has(d),
      score: () => 1,
    };
  }

  get size(): number {
    return this.byId.size;
  }

  upsert(id: string, source: Record<string, unknown>): void {
    // Extract everything first so a surprising value cannot leave the doc half-indexed.
    const raw = new Map<string, unknown[]>();
    const texts: Array<[TextIndex, string]> = [];
    const values: Array<[ValueIndex, Value[]]> = [];
    for (const def of this.fields.values()) {
      let found = raw.get(def.sourcePath);
      if (found === undefined) {
        found = extractValues(source, def.sourcePath);
        raw.set(def.sourcePath, found);
      }
      if (found.length === 0) continue;
      if (def.kind === 'text') {
        const parts = found.filter(
          (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
        );
        // Array values are concatenated; without phrase queries the position gap does not matter.
        if (parts.length > 0)
          texts.push([this.texts.get(def.path) as TextIndex, parts.map(String).join(' ')]);
      } else {
        // The server validated the source; values that still do not normalise are skipped, never thrown.
        const normalised = found
          .map((v) => normalizeValue(def, v))
          .filter((v): v is Value => v !== undefined);
        if (normalised.length > 0) values.push([this.values.get(def.path) as ValueIndex, normalised]);
      }
    }
    this.remove(id);
    const record: DocRecord = { id, doc: this.nextDoc++, source };
    this.byId.set(id, record);
    this.byDoc.set(record.doc, record);
    for (const [index, text] of texts) index.add(record.doc, text);
    for (const [index, vs] of values) index.add(record.doc, vs);
  }

  remove(id: string): void {
    const record = this.byId.get(id);
    if (record === undefined) return;
    this.byId.delete(id);
    this.byDoc.delete(record.doc);
    for (const t of this.texts.values()) t.remove(record.doc);
    for (const v of this.values.values()) v.remove(record.doc);
  }

  private view(): IndexView {
    return {
      fields: this.fields,
      values: this.values,
      texts: this.texts,
      all: this.all,
      docOf: (id) => this.byId.get(id)?.doc,
      now: this.now(),
    };
  }

  private compileQuery(body: Record<string, unknown>, q: string | undefined, scoring: boolean): Matcher {
    const compiler = new QueryCompiler(this.view());
    if (q !== undefined) {
      if (body.query !== undefined) throw illegalArgument('both [q] and a request body [query] were given');
      return compiler.compile(parseQueryString(q), scoring);
    }
    return compiler.compile(body.query ?? { match_all: {} }, scoring);
  }

  count(body: Record<string, unknown>, params: CountParams): number {
    if (!isPlainObject(body)) throw parsingError('request body must be an object');
    checkKeys(body, ['query'], '_count');
    const root = this.compileQuery(body, params.q, false);
    let n = 0;
    for (const _ of root.docs()) n++;
    return n;
  }

  search(body: Record<string, unknown>, params: SearchParams): SearchResult {
    if (!isPlainObject(body)) throw parsingError('request body must be an object');
    checkKeys(body, SEARCH_KEYS, '_search');
    const from = params.from ?? (body.from === undefined ? 0 : intParam(body.from, 'from'));
    const size = params.size ?? (body.size === undefined ? 10 : intParam(body.size, 'size'));
    if (from < 0) throw illegalArgument('[from] parameter cannot be negative');
    if (size < 0) throw illegalArgument(`[size] parameter cannot be negative, found [${size}]`);
    if (from + size > MAX_RESULT_WINDOW)
      throw illegalArgument(
        `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${from + size}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.`,
      );
    const trackScores = body.track_scores === undefined ? false : body.track_scores === true;
    if (body.track_scores !== undefined && typeof body.track_scores !== 'boolean')
      throw parsingError('[track_scores] must be a boolean');
    const ctx = { fields: this.fields, values: this.values };
    let sort: SortSpec[] | undefined;
    if (params.sort !== undefined) sort = parseSortParam(params.sort, ctx);
    else if (body.sort !== undefined) sort = parseSort(body.sort, ctx);
    if (body.aggs !== undefined && body.aggregations !== undefined)
      throw parsingError('Found two aggregation type definitions: [aggs] and [aggregations]');
    const aggs = parseAggs(body.aggs ?? body.aggregations ?? {}, ctx);
    const explicitSort = sort !== undefined && sort.length > 0;
    const scoring = !explicitSort || trackScores || (sort?.some((s) => s.kind === 'score') ?? false);
    const root = this.compileQuery(body, params.q, scoring);

    const docs: number[] = [];
    const scores: number[] = [];
    let maxScore = Number.NEGATIVE_INFINITY;
    for (const doc of root.docs()) {
      docs.push(doc);
      if (scoring) {
        const s = root.score(doc);
        scores.push(s);
        if (s > maxScore) maxScore = s;
      }
    }
    const aggregations: Record<string, unknown> = {};
    for (const agg of aggs) aggregations[agg.name] = runAgg(agg, docs, docs.length === this.byDoc.size);

    const specs: SortSpec[] = explicitSort ? (sort as SortSpec[]) : [{ kind: 'score', desc: true }];
    const compare = (i: number, j: number): number => {
      for (const spec of specs) {
        let c = 0;
        if (spec.kind === 'score') {
          const a = scores[i] as number;
          const b = scores[j] as number;
          c = a === b ? 0 : a < b !== spec.desc ? -1 : 1;
        } else if (spec.kind === 'doc') {
          c = ((docs[i] as number) - (docs[j] as number)) * (spec.desc ? -1 : 1);
        } else {
          c = compareKeys(
            fieldKey(spec, docs[i] as number),
            fieldKey(spec, docs[j] as number),
            spec.desc,
            spec.missingFirst,
          );
        }
        if (c !== 0) return c;
      }
      // Deterministic ties: index order.
      return (docs[i] as number) - (docs[j] as number);
    };
    const page = size === 0 ? [] : topK(docs.length, from + size, compare).slice(from);
    const hits: SearchHit[] = page.map((i) => {
      const doc = docs[i] as number;
      const record = this.byDoc.get(doc) as DocRecord;
      const hit: SearchHit = {
        id: record.id,
        score:
          scoring && (!explicitSort || trackScores || specs.some((s) => s.kind === 'score'))
            ? (scores[i] as number)
            : null,
        source: record.source,
      };
      if (explicitSort)
        hit.sort = specs.map((spec) =>
          spec.kind === 'score' ? scores[i] : spec.kind === 'doc' ? doc : (fieldKey(spec, doc) ?? null),
        );
      return hit;
    });
    const result: SearchResult = {
      total: docs.length,
      maxScore: scoring && docs.length > 0 ? maxScore : null,
      hits,
    };
    if (aggs.length > 0) result.aggregations = aggregations;
    return result;
  }
}

/**
 * The `q` subset: `*`, `*:*`, or whitespace-separated `field:value` clauses (OR-ed, ES's default operator),
 * each a `match` on that field. Anything else (bare terms, boolean operators, phrases, wildcards, ranges)
 * is refused rather than guessed.
 */
export function parseQueryString(q: string): Record<string, unknown> {
  const text = q.trim();
  if (text === '' || text === '*' || text === '*:*') return { match_all: {} };
  const should: Record<string, unknown>[] = [];
  for (const part of text.split(/\s+/)) {
    const m = /^([\p{L}\p{N}_.@-]+):([\p{L}\p{N}_.@-]+)$/u.exec(part);
    if (m === null || m[1] === 'AND' || m[1] === 'OR' || m[1] === 'NOT')
      throw illegalArgument(
        `[q] clause [${part}] is not supported: only field:value clauses (OR-ed) and *:* are; use a request body query`,
      );
    should.push({ match: { [m[1] as string]: m[2] } });
  }
  return should.length === 1 ? (should[0] as Record<string, unknown>) : { bool: { should } };
}

export const createSearcher: SearcherFactory = (_indexName, mappings) => new QuerySearcher(mappings);
