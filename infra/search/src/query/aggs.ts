/** Aggregations: `terms` only (no sub-aggregations). */
import { formatDate } from './dates';
import { checkKeys, illegalArgument, isPlainObject, parsingError } from './errors';
import type { FieldDef, Value, ValueIndex } from './fields';
import { normalizeValue } from './fields';

interface TermsAgg {
  name: string;
  def: FieldDef | undefined;
  index: ValueIndex | undefined;
  size: number;
  minDocCount: number;
  missing: Value | undefined;
  order: Array<{ by: '_count' | '_key'; desc: boolean }>;
}

export interface AggFields {
  readonly fields: ReadonlyMap<string, FieldDef>;
  readonly values: ReadonlyMap<string, ValueIndex>;
}

export function parseAggs(raw: unknown, ctx: AggFields): TermsAgg[] {
  if (!isPlainObject(raw)) throw parsingError('[aggs] must be an object');
  return Object.entries(raw).map(([name, spec]) => {
    if (!isPlainObject(spec))
      throw parsingError(`Expected [START_OBJECT] under [${name}], but got something else`);
    const types = Object.keys(spec);
    if (types.includes('aggs') || types.includes('aggregations'))
      throw illegalArgument(`[${name}] sub-aggregations are not supported by this server`);
    if (types.length !== 1)
      throw parsingError(
        `Expected exactly one aggregation type under [${name}], found [${types.join(', ')}]`,
      );
    const type = types[0] as string;
    if (type !== 'terms')
      throw parsingError(
        `Unknown aggregation type [${type}] in [${name}]: only [terms] is supported by this server`,
      );
    const body = spec.terms;
    if (!isPlainObject(body)) throw parsingError(`[terms] aggregation [${name}] must be an object`);
    checkKeys(body, ['field', 'size', 'order', 'min_doc_count', 'missing', 'shard_size'], 'terms');
    if (typeof body.field !== 'string')
      throw parsingError(`[terms] aggregation [${name}] requires a [field]`);
    const def = ctx.fields.get(body.field);
    if (def?.kind === 'text')
      throw illegalArgument(
        `Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. [${body.field}]`,
      );
    const size = body.size === undefined ? 10 : Number(body.size);
    if (!Number.isInteger(size) || size <= 0)
      throw illegalArgument(`[size] must be greater than 0. Found [${String(body.size)}] in [${name}]`);
    const minDocCount = body.min_doc_count === undefined ? 1 : Number(body.min_doc_count);
    if (!Number.isInteger(minDocCount) || minDocCount < 0)
      throw illegalArgument(`[min_doc_count] must be a non-negative integer in [${name}]`);
    let missing: Value | undefined;
    if (body.missing !== undefined && def !== undefined) {
      // ES puts the `missing` value into its own bucket as given, without the field's normalizer.
      missing = normalizeValue(def, body.missing, false);
      if (missing === undefined)
        throw illegalArgument(`[missing] value [${String(body.missing)}] does not fit field [${def.path}]`);
    }
    return {
      name,
      def,
      index: ctx.values.get(body.field),
      size,
      minDocCount,
      missing,
      order: parseOrder(body.order, name),
    };
  });
}

function parseOrder(raw: unknown, name: string): TermsAgg['order'] {
  if (raw === undefined)
    return [
      { by: '_count', desc: true },
      { by: '_key', desc: false },
    ];
  const list = Array.isArray(raw) ? raw : [raw];
  const out: TermsAgg['order'] = list.map((o) => {
    if (!isPlainObject(o) || Object.keys(o).length !== 1)
      throw parsingError(`[terms] malformed [order] in [${name}]`);
    const [by, dir] = Object.entries(o)[0] as [string, unknown];
    if (by !== '_count' && by !== '_key')
      throw parsingError(`[terms] order by [${by}] is not supported in [${name}] (_count, _key)`);
    const d = String(dir).toLowerCase();
    if (d !== 'asc' && d !== 'desc')
      throw parsingError(`[terms] unknown order direction [${String(dir)}] in [${name}]`);
    return { by, desc: d === 'desc' };
  });
  // ES breaks count ties by key ascending.
  if (!out.some((o) => o.by === '_key')) out.push({ by: '_key', desc: false });
  return out;
}

interface Bucket {
  key: Value;
  key_as_string?: string;
  doc_count: number;
}

/** `allDocs`: `docs` is every live doc, so the postings sizes are the counts (no per-doc pass). */
export function runAgg(agg: TermsAgg, docs: readonly number[], allDocs: boolean): Record<string, unknown> {
  const counts = new Map<Value, number>();
  const docValues = agg.index?.docValues;
  if (allDocs && agg.index !== undefined) {
    for (const [key, set] of agg.index.postings) counts.set(key, set.size);
    const without = docs.length - agg.index.docValues.size;
    if (agg.missing !== undefined && without > 0)
      counts.set(agg.missing, (counts.get(agg.missing) ?? 0) + without);
  } else if (docValues !== undefined || agg.missing !== undefined) {
    for (const doc of docs) {
      const values = docValues?.get(doc);
      if (values === undefined) {
        if (agg.missing !== undefined) counts.set(agg.missing, (counts.get(agg.missing) ?? 0) + 1);
        continue;
      }
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }
  if (agg.minDocCount === 0 && agg.index !== undefined) {
    for (const key of agg.index.postings.keys()) if (!counts.has(key)) counts.set(key, 0);
  }
  const entries = [...counts].filter(([, n]) => n >= agg.minDocCount);
  entries.sort((a, b) => {
    for (const o of agg.order) {
      const x = o.by === '_count' ? a[1] : a[0];
      const y = o.by === '_count' ? b[1] : b[0];
      if (x !== y) return x < y !== o.desc ? -1 : 1;
    }
    return 0;
  });
  const kept = entries.slice(0, agg.size);
  let other = 0;
  for (let i = agg.size; i < entries.length; i++) other += (entries[i] as [Value, number])[1];
  const kind = agg.def?.kind;
  const buckets: Bucket[] = kept.map(([key, n]) => {
    if (kind === 'date') return { key, key_as_string: formatDate(key as number), doc_count: n };
    if (kind === 'boolean') return { key, key_as_string: key === 1 ? 'true' : 'false', doc_count: n };
    return { key, doc_count: n };
  });
  return { doc_count_error_upper_bound: 0, sum_other_doc_count: other, buckets };
}
