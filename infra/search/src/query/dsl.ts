/**
 * Query DSL → Matcher. Every supported query validates its parameters; anything else throws a
 * SearchRequestError naming what is unsupported, so a request never silently means something else.
 */
import { analyze } from './analysis';
import { resolveDateMath } from './dates';
import { checkKeys, illegalArgument, isPlainObject, parsingError, shardFailure } from './errors';
import type { FieldDef, TextIndex, Value, ValueIndex } from './fields';
import { normalizeValue } from './fields';
import type { Matcher } from './matchers';
import {
  boolMatcher,
  disMax,
  EMPTY,
  predicateMatcher,
  scoredMatcher,
  setMatcher,
  withConstantScore,
} from './matchers';

export interface IndexView {
  readonly fields: ReadonlyMap<string, FieldDef>;
  readonly values: ReadonlyMap<string, ValueIndex>;
  readonly texts: ReadonlyMap<string, TextIndex>;
  /** Every live doc, score 1. */
  readonly all: Matcher;
  docOf(id: string): number | undefined;
  /** Time `now` resolves to in date math. */
  readonly now: number;
}

export const SUPPORTED_QUERIES = [
  'match_all',
  'match_none',
  'match',
  'multi_match',
  'term',
  'terms',
  'range',
  'exists',
  'ids',
  'bool',
  'constant_score',
  'dis_max',
] as const;

/** Lucene's BM25 for a term in a field without norms (keyword, boolean): idf * tf / (tf + k1), tf = 1. */
function keywordTermScore(docsWithTerm: number, docsWithField: number): number {
  const idf = Math.log(1 + (docsWithField - docsWithTerm + 0.5) / (docsWithTerm + 0.5));
  return idf / (1 + 1.2);
}

function numberParam(value: unknown, name: string, where: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw parsingError(`[${where}] [${name}] must be a number, got [${JSON.stringify(value)}]`);
  return n;
}

function booleanParam(value: unknown, name: string, where: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw parsingError(`[${where}] [${name}] must be a boolean, got [${JSON.stringify(value)}]`);
}

/** ES's Queries.calculateMinShouldMatch for the forms `3`, `-1`, `75%`, `-25%`. */
export function minimumShouldMatch(spec: unknown, optional: number, where: string): number {
  let result: number;
  if (typeof spec === 'number' && Number.isInteger(spec)) {
    result = spec < 0 ? optional + spec : spec;
  } else if (typeof spec === 'string' && /^\s*-?\d+\s*$/.test(spec)) {
    const n = Number(spec);
    result = n < 0 ? optional + n : n;
  } else if (typeof spec === 'string' && /^\s*-?\d+%\s*$/.test(spec)) {
    const calc = Math.fround((optional * Number.parseInt(spec, 10)) / 100);
    result = calc < 0 ? optional + Math.trunc(calc) : Math.trunc(calc);
  } else {
    throw parsingError(
      `[${where}] unsupported minimum_should_match [${JSON.stringify(spec)}]: only an integer or a percentage is supported`,
    );
  }
  return Math.max(0, Math.min(result, optional));
}

/** Splits `{field: value}` / `{field: {params}}` of single-field queries. */
function singleField(body: unknown, where: string): [string, unknown] {
  if (!isPlainObject(body)) throw parsingError(`[${where}] query malformed, must be an object`);
  const entries = Object.entries(body);
  if (entries.length !== 1)
    throw parsingError(
      entries.length === 0
        ? `[${where}] query malformed, no field specified`
        : `[${where}] query doesn't support multiple fields, found [${entries[0]?.[0]}] and [${entries[1]?.[0]}]`,
    );
  return entries[0] as [string, unknown];
}

export class QueryCompiler {
  constructor(private readonly view: IndexView) {}

  /** `scoring` false means filter context: scores are not used, so leaves return 0. */
  compile(query: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(query)) throw parsingError('[_na] query malformed, must start with start_object');
    const entries = Object.entries(query);
    if (entries.length === 0) throw parsingError('query malformed, empty clause found');
    if (entries.length > 1)
      throw parsingError(
        `[${entries[0]?.[0]}] malformed query, expected [END_OBJECT] but found [FIELD_NAME] ([${entries[1]?.[0]}])`,
      );
    const [type, body] = entries[0] as [string, unknown];
    switch (type) {
      case 'match_all':
        return this.matchAll(body, scoring);
      case 'match_none':
        if (!isPlainObject(body)) throw parsingError('[match_none] query malformed');
        checkKeys(body, ['boost'], 'match_none');
        return EMPTY;
      case 'match':
        return this.match(body, scoring);
      case 'multi_match':
        return this.multiMatch(body, scoring);
      case 'term':
        return this.term(body, scoring);
      case 'terms':
        return this.terms(body, scoring);
      case 'range':
        return this.range(body, scoring);
      case 'exists':
        return this.exists(body, scoring);
      case 'ids':
        return this.ids(body, scoring);
      case 'bool':
        return this.bool(body, scoring);
      case 'constant_score':
        return this.constantScore(body, scoring);
      case 'dis_max':
        return this.disMax(body, scoring);
      default:
        throw parsingError(
          `unknown query [${type}]: not supported by this server (supported: ${SUPPORTED_QUERIES.join(', ')})`,
        );
    }
  }

  private boostOf(body: Record<string, unknown>, where: string): number {
    if (body.boost === undefined) return 1;
    const boost = numberParam(body.boost, 'boost', where);
    if (boost < 0) throw illegalArgument(`[${where}] negative [boost] are not allowed.`);
    return boost;
  }

  private matchAll(body: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(body)) throw parsingError('[match_all] query malformed');
    checkKeys(body, ['boost'], 'match_all');
    return withConstantScore(this.view.all, scoring ? this.boostOf(body, 'match_all') : 0);
  }

  private match(raw: unknown, scoring: boolean): Matcher {
    const [field, spec] = singleField(raw, 'match');
    const params: Record<string, unknown> = isPlainObject(spec) ? spec : { query: spec };
    checkKeys(
      params,
      ['query', 'operator', 'minimum_should_match', 'boost', 'zero_terms_query', 'lenient', 'analyzer'],
      'match',
    );
    if (
      params.query === undefined ||
      params.query === null ||
      isPlainObject(params.query) ||
      Array.isArray(params.query)
    )
      throw parsingError(`[match] requires query value for field [${field}]`);
    return this.matchField(field, params.query, params, this.boostOf(params, 'match'), scoring, 'match');
  }

  /** One field of `match` / `multi_match`. */
  private matchField(
    path: string,
    query: unknown,
    params: Record<string, unknown>,
    boost: number,
    scoring: boolean,
    where: string,
  ): Matcher {
    if (params.analyzer !== undefined && params.analyzer !== 'standard')
      throw parsingError(`[${where}] analyzer [${String(params.analyzer)}] is not supported (only standard)`);
    const lenient = params.lenient === undefined ? false : booleanParam(params.lenient, 'lenient', where);
    const operator = params.operator === undefined ? 'or' : String(params.operator).toLowerCase();
    if (operator !== 'or' && operator !== 'and')
      throw parsingError(`[${where}] operator [${String(params.operator)}] is not valid (and, or)`);
    const zeroTerms =
      params.zero_terms_query === undefined ? 'none' : String(params.zero_terms_query).toLowerCase();
    if (zeroTerms !== 'none' && zeroTerms !== 'all')
      throw parsingError(`[${where}] unsupported zero_terms_query [${zeroTerms}]`);
    const def = this.view.fields.get(path);
    if (def === undefined) return EMPTY; // ES: an unmapped field matches nothing
    if (def.kind !== 'text') {
      // Non-text fields are not analysed: the whole query is one term, as ES's match does.
      return this.termOn(def, query, boost, scoring, where, lenient);
    }
    const terms = analyze(String(query));
    if (terms.length === 0)
      return zeroTerms === 'all' ? withConstantScore(this.view.all, scoring ? boost : 0) : EMPTY;
    let required = 1;
    if (operator === 'and') required = terms.length;
    else if (params.minimum_should_match !== undefined)
      required = Math.max(1, minimumShouldMatch(params.minimum_should_match, terms.length, where));
    const text = this.view.texts.get(path);
    if (text === undefined) return EMPTY;
    return scoredMatcher(text.search(terms, required), scoring ? boost : 0);
  }

  private multiMatch(raw: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(raw)) throw parsingError('[multi_match] query malformed');
    checkKeys(
      raw,
      [
        'query',
        'fields',
        'type',
        'tie_breaker',
        'operator',
        'minimum_should_match',
        'boost',
        'lenient',
        'zero_terms_query',
        'analyzer',
      ],
      'multi_match',
    );
    if (raw.query === undefined || raw.query === null || typeof raw.query === 'object')
      throw parsingError('[multi_match] requires query value');
    const type = raw.type === undefined ? 'best_fields' : String(raw.type);
    if (type !== 'best_fields' && type !== 'most_fields')
      throw parsingError(`[multi_match] type [${type}] is not supported (best_fields, most_fields)`);
    const fieldSpecs = typeof raw.fields === 'string' ? [raw.fields] : raw.fields;
    if (!Array.isArray(fieldSpecs) || fieldSpecs.length === 0)
      throw parsingError('[multi_match] requires [fields]: a default field list is not supported');
    const tieBreaker =
      raw.tie_breaker === undefined
        ? type === 'most_fields'
          ? 1
          : 0
        : numberParam(raw.tie_breaker, 'tie_breaker', 'multi_match');
    const boost = this.boostOf(raw, 'multi_match');
    const perField: Matcher[] = [];
    for (const spec of fieldSpecs) {
      if (typeof spec !== 'string') throw parsingError('[multi_match] [fields] must be strings');
      const m = /^([^^]+)(?:\^(\d+(?:\.\d+)?))?$/.exec(spec);
      if (m === null) throw parsingError(`[multi_match] malformed field [${spec}]`);
      const path = m[1] as string;
      if (path.includes('*'))
        throw parsingError(`[multi_match] wildcard field names are not supported ([${spec}])`);
      const fieldBoost = m[2] === undefined ? 1 : Number(m[2]);
      perField.push(this.matchField(path, raw.query, raw, fieldBoost, scoring, 'multi_match'));
    }
    // most_fields sums the field scores: dis_max with tie_breaker 1 is exactly that.
    return disMax(perField, tieBreaker, scoring ? boost : 0);
  }

  private term(raw: unknown, scoring: boolean): Matcher {
    const [field, spec] = singleField(raw, 'term');
    const params: Record<string, unknown> = isPlainObject(spec) ? spec : { value: spec };
    checkKeys(params, ['value', 'boost', 'case_insensitive'], 'term');
    if (
      params.case_insensitive !== undefined &&
      booleanParam(params.case_insensitive, 'case_insensitive', 'term')
    )
      throw parsingError('[term] case_insensitive is not supported');
    if (params.value === undefined || params.value === null || typeof params.value === 'object')
      throw parsingError(
        `[term] query malformed: [value] for field [${field}] must be a string, number or boolean`,
      );
    const def = this.view.fields.get(field);
    if (def === undefined) return EMPTY;
    const boost = this.boostOf(params, 'term');
    if (def.kind === 'text') {
      // Not analysed: `Bike` never matches, as the index holds `bike` (same as ES).
      const text = this.view.texts.get(field);
      return text === undefined
        ? EMPTY
        : scoredMatcher(text.search([String(params.value)], 1), scoring ? boost : 0);
    }
    return this.termOn(def, params.value, boost, scoring, 'term', false);
  }

  private parseValue(def: FieldDef, raw: unknown, where: string, lenient: boolean): Value | undefined {
    const value = normalizeValue(def, raw);
    if (value === undefined && !lenient) {
      const what =
        def.kind === 'numeric'
          ? `For input string: "${String(raw)}"`
          : def.kind === 'date'
            ? `failed to parse date field [${String(raw)}] with format [strict_date_optional_time||epoch_millis]`
            : `Can't parse boolean value [${String(raw)}], expected [true] or [false]`;
      throw shardFailure(`[${where}] failed to create query on field [${def.path}]: ${what}`);
    }
    return value;
  }

  /** Exact term on a non-text field. keyword/boolean score like Lucene's BM25 without norms; numbers and dates 1. */
  private termOn(
    def: FieldDef,
    raw: unknown,
    boost: number,
    scoring: boolean,
    where: string,
    lenient: boolean,
  ) {
    const value = this.parseValue(def, raw, where, lenient);
    const index = this.view.values.get(def.path);
    if (value === undefined || index === undefined) return EMPTY;
    const docs = index.postings.get(value);
    if (docs === undefined) return EMPTY;
    let score = 0;
    if (scoring)
      score =
        boost *
        (def.kind === 'keyword' || def.kind === 'boolean'
          ? keywordTermScore(docs.size, index.docValues.size)
          : 1);
    return setMatcher(docs, score);
  }

  private terms(raw: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(raw)) throw parsingError('[terms] query malformed');
    const boost = this.boostOf(raw, 'terms');
    const fields = Object.entries(raw).filter(([k]) => k !== 'boost');
    if (fields.length !== 1)
      throw parsingError(
        fields.length === 0
          ? '[terms] query requires a field'
          : '[terms] query does not support multiple fields',
      );
    const [field, values] = fields[0] as [string, unknown];
    if (!Array.isArray(values))
      throw parsingError(
        `[terms] query on [${field}]: only an array of values is supported (no terms lookup)`,
      );
    for (const v of values)
      if (v === null || typeof v === 'object')
        throw parsingError(`[terms] values of [${field}] must be scalars`);
    const def = this.view.fields.get(field);
    if (def === undefined) return EMPTY;
    const score = scoring ? boost : 0;
    if (def.kind === 'text') {
      const text = this.view.texts.get(field);
      if (text === undefined) return EMPTY;
      return withConstantScore(
        disMax(
          values.map((v) => scoredMatcher(text.search([String(v)], 1), 1)),
          0,
          1,
        ),
        score,
      );
    }
    const index = this.view.values.get(field);
    if (index === undefined) return EMPTY;
    const sets: ReadonlySet<number>[] = [];
    for (const v of values) {
      const value = this.parseValue(def, v, 'terms', false);
      const docs = value === undefined ? undefined : index.postings.get(value);
      if (docs !== undefined) sets.push(docs);
    }
    if (sets.length === 0) return EMPTY;
    if (sets.length === 1) return setMatcher(sets[0], score);
    return disMax(
      sets.map((s) => setMatcher(s, 1)),
      0,
      score,
    );
  }

  private range(raw: unknown, scoring: boolean): Matcher {
    const [field, spec] = singleField(raw, 'range');
    if (!isPlainObject(spec))
      throw parsingError(`[range] query malformed for field [${field}]: expected an object`);
    checkKeys(spec, ['gt', 'gte', 'lt', 'lte', 'boost', 'format', 'time_zone', 'relation'], 'range');
    if (spec.format !== undefined) {
      for (const f of String(spec.format).split('||'))
        if (!['strict_date_optional_time', 'date_optional_time', 'epoch_millis'].includes(f))
          throw parsingError(
            `[range] format [${f}] is not supported (strict_date_optional_time, epoch_millis)`,
          );
    }
    if (spec.time_zone !== undefined && !['Z', 'UTC', '+00:00', 'Etc/UTC'].includes(String(spec.time_zone)))
      throw parsingError(`[range] time_zone [${String(spec.time_zone)}] is not supported (only UTC)`);
    if (spec.relation !== undefined && String(spec.relation).toLowerCase() !== 'intersects')
      throw parsingError(`[range] relation [${String(spec.relation)}] is not supported`);
    const boost = this.boostOf(spec, 'range');
    const def = this.view.fields.get(field);
    if (def === undefined) return EMPTY;
    if (def.kind === 'text')
      throw illegalArgument(
        `[range] queries on [text] field [${field}] are not supported; use a keyword field`,
      );
    const index = this.view.values.get(field);
    if (index === undefined) return EMPTY;
    // The last of gt/gte (lt/lte) wins, as when ES parses the object.
    let lower: Value | undefined;
    let lowerInclusive = true;
    let upper: Value | undefined;
    let upperInclusive = true;
    for (const [key, value] of Object.entries(spec)) {
      if (!['gt', 'gte', 'lt', 'lte'].includes(key) || value === null) continue;
      // gt and lte round date math up (`now/d` → end of day), gte and lt round down.
      const bound = this.bound(def, value, key === 'gt' || key === 'lte');
      if (key === 'gt' || key === 'gte') {
        lower = bound;
        lowerInclusive = key === 'gte';
      } else {
        upper = bound;
        upperInclusive = key === 'lte';
      }
    }
    const r = index.range(lower, lowerInclusive, upper, upperInclusive);
    return predicateMatcher(r.cost, r.docs, r.has, scoring ? boost : 0);
  }

  private bound(def: FieldDef, value: unknown, roundUp: boolean): Value {
    if (def.kind === 'date') {
      const millis = resolveDateMath(value, this.view.now, roundUp);
      if (millis === undefined)
        throw shardFailure(
          `[range] failed to parse date field [${String(value)}] with format [strict_date_optional_time||epoch_millis]`,
        );
      return millis;
    }
    return this.parseValue(def, value, 'range', false) as Value;
  }

  private exists(raw: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(raw)) throw parsingError('[exists] query malformed');
    checkKeys(raw, ['field', 'boost'], 'exists');
    if (typeof raw.field !== 'string') throw parsingError('[exists] must be provided with a [field]');
    const score = scoring ? this.boostOf(raw, 'exists') : 0;
    const path = raw.field;
    // An object path (`location`) exists when any field below it does.
    const defs = [...this.view.fields.values()].filter(
      (d) => d.path === path || d.path.startsWith(`${path}.`),
    );
    const parts: Matcher[] = [];
    for (const def of defs) {
      const text = this.view.texts.get(def.path);
      const index = this.view.values.get(def.path);
      if (text !== undefined)
        parts.push(
          predicateMatcher(
            text.docCount,
            () => text.docs(),
            (d) => text.has(d),
            1,
          ),
        );
      if (index !== undefined) parts.push(setMatcherOfMap(index.docValues));
    }
    return withConstantScore(disMax(parts, 0, 1), score);
  }

  private ids(raw: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(raw)) throw parsingError('[ids] query malformed');
    checkKeys(raw, ['values', 'boost'], 'ids');
    if (!Array.isArray(raw.values)) throw parsingError('[ids] requires an array of [values]');
    const docs = new Set<number>();
    for (const id of raw.values) {
      const doc = this.view.docOf(String(id));
      if (doc !== undefined) docs.add(doc);
    }
    return setMatcher(docs, scoring ? this.boostOf(raw, 'ids') : 0);
  }

  private clauses(value: unknown, scoring: boolean, where: string): Matcher[] {
    if (value === undefined) return [];
    const list = Array.isArray(value) ? value : [value];
    return list.map((q) => {
      if (!isPlainObject(q)) throw parsingError(`[bool] [${where}] must hold query objects`);
      return this.compile(q, scoring);
    });
  }

  private bool(raw: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(raw)) throw parsingError('[bool] query malformed');
    checkKeys(
      raw,
      ['must', 'filter', 'should', 'must_not', 'minimum_should_match', 'boost', 'adjust_pure_negative'],
      'bool',
    );
    if (
      raw.adjust_pure_negative !== undefined &&
      !booleanParam(raw.adjust_pure_negative, 'adjust_pure_negative', 'bool')
    )
      throw parsingError('[bool] adjust_pure_negative=false is not supported');
    const must = this.clauses(raw.must, scoring, 'must');
    const filter = this.clauses(raw.filter, false, 'filter');
    const should = this.clauses(raw.should, scoring, 'should');
    const mustNot = this.clauses(raw.must_not, false, 'must_not');
    const boost = this.boostOf(raw, 'bool');
    if (must.length + filter.length + should.length + mustNot.length === 0)
      return withConstantScore(this.view.all, scoring ? boost : 0); // ES: empty bool = match_all
    const defaultMsm = must.length + filter.length > 0 ? 0 : 1;
    const msm =
      raw.minimum_should_match === undefined || should.length === 0
        ? Math.min(defaultMsm, should.length)
        : minimumShouldMatch(raw.minimum_should_match, should.length, 'bool');
    return boolMatcher(
      { must, filter, should, mustNot, minimumShouldMatch: msm, boost: scoring ? boost : 0 },
      this.view.all,
    );
  }

  private constantScore(raw: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(raw)) throw parsingError('[constant_score] query malformed');
    checkKeys(raw, ['filter', 'boost'], 'constant_score');
    if (raw.filter === undefined) throw parsingError("[constant_score] requires a 'filter' element");
    return withConstantScore(
      this.compile(raw.filter, false),
      scoring ? this.boostOf(raw, 'constant_score') : 0,
    );
  }

  private disMax(raw: unknown, scoring: boolean): Matcher {
    if (!isPlainObject(raw)) throw parsingError('[dis_max] query malformed');
    checkKeys(raw, ['queries', 'tie_breaker', 'boost'], 'dis_max');
    if (!Array.isArray(raw.queries))
      throw parsingError("[dis_max] requires 'queries' field with at least one clause");
    const tie = raw.tie_breaker === undefined ? 0 : numberParam(raw.tie_breaker, 'tie_breaker', 'dis_max');
    return disMax(
      raw.queries.map((q) => this.compile(q, scoring)),
      tie,
      scoring ? this.boostOf(raw, 'dis_max') : 0,
    );
  }
}

function setMatcherOfMap(map: ReadonlyMap<number, unknown>): Matcher {
  return predicateMatcher(
    map.size,
    () => map.keys(),
    (d) => map.has(d),
    1,
  );
}
