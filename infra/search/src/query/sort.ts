/** `sort` (body or `?sort=`) parsing and comparison. */
import { checkKeys, illegalArgument, isPlainObject, parsingError, shardFailure } from './errors';
import type { FieldDef, Value, ValueIndex } from './fields';

export type SortSpec =
  | { kind: 'score'; desc: boolean }
  | { kind: 'doc'; desc: boolean }
  | {
      kind: 'field';
      path: string;
      desc: boolean;
      missingFirst: boolean;
      mode: 'min' | 'max';
      index: ValueIndex | undefined;
    };

export interface SortFields {
  readonly fields: ReadonlyMap<string, FieldDef>;
  readonly values: ReadonlyMap<string, ValueIndex>;
}

function order(value: unknown, path: string): boolean {
  const o = String(value).toLowerCase();
  if (o !== 'asc' && o !== 'desc')
    throw parsingError(`[sort] unknown order [${String(value)}] for [${path}] (asc, desc)`);
  return o === 'desc';
}

function one(path: string, options: Record<string, unknown>, ctx: SortFields): SortSpec {
  if (path === '_score' || path === '_doc') {
    checkKeys(options, ['order'], `sort ${path}`);
    const desc = options.order === undefined ? path === '_score' : order(options.order, path);
    return { kind: path === '_score' ? 'score' : 'doc', desc };
  }
  checkKeys(options, ['order', 'missing', 'mode', 'unmapped_type'], `sort ${path}`);
  const desc = options.order === undefined ? false : order(options.order, path);
  const missing = options.missing === undefined ? '_last' : String(options.missing);
  if (missing !== '_last' && missing !== '_first')
    throw parsingError(`[sort] missing [${missing}] for [${path}] is not supported (_first, _last)`);
  // ES's default sort mode picks the smallest value of a multi-valued field ascending, the largest descending.
  const mode = options.mode === undefined ? (desc ? 'max' : 'min') : String(options.mode);
  if (mode !== 'min' && mode !== 'max')
    throw parsingError(`[sort] mode [${mode}] for [${path}] is not supported (min, max)`);
  const def = ctx.fields.get(path);
  if (def === undefined) {
    if (options.unmapped_type === undefined)
      throw shardFailure(`No mapping found for [${path}] in order to sort on`);
  } else if (def.kind === 'text') {
    throw illegalArgument(
      `Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. [${path}]`,
    );
  }
  return { kind: 'field', path, desc, missingFirst: missing === '_first', mode, index: ctx.values.get(path) };
}

export function parseSort(raw: unknown, ctx: SortFields): SortSpec[] {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((item) => {
    if (typeof item === 'string') return one(item, {}, ctx);
    if (isPlainObject(item)) {
      const entries = Object.entries(item);
      if (entries.length !== 1) throw parsingError('[sort] each sort object must name exactly one field');
      const [path, spec] = entries[0] as [string, unknown];
      if (typeof spec === 'string') return one(path, { order: spec }, ctx);
      if (isPlainObject(spec)) return one(path, spec, ctx);
    }
    throw parsingError(`[sort] malformed sort element ${JSON.stringify(item)}`);
  });
}

/** `?sort=price:desc,_score` */
export function parseSortParam(param: string, ctx: SortFields): SortSpec[] {
  return param
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((part) => {
      const at = part.lastIndexOf(':');
      const path = (at < 0 ? part : part.slice(0, at)).trim();
      return at < 0 ? one(path, {}, ctx) : one(path, { order: part.slice(at + 1).trim() }, ctx);
    });
}

/** The sort key of a doc for a field spec: `undefined` when it has no value. */
export function fieldKey(spec: Extract<SortSpec, { kind: 'field' }>, doc: number): Value | undefined {
  const values = spec.index?.docValues.get(doc);
  if (values === undefined || values.length === 0) return undefined;
  return spec.mode === 'min' ? values[0] : values[values.length - 1];
}

export function compareKeys(
  a: Value | undefined,
  b: Value | undefined,
  desc: boolean,
  missingFirst: boolean,
): number {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    return (a === undefined) === missingFirst ? -1 : 1;
  }
  if (a === b) return 0;
  return a < b !== desc ? -1 : 1;
}
