/**
 * Index mappings: parsing/validating a `mappings` body, flattening it for the query engine, and checking that a
 * document's values fit their mapped types (ES rejects such documents with mapper_parsing_exception).
 *
 * Dynamic mapping: we never add fields on our own. Unmapped fields behave like ES `dynamic: false` (kept in
 * `_source`, not searchable) unless the mappings say `dynamic: "strict"` (then the document is rejected).
 *
 * Analysis: `normalizer` on keyword fields (resolved against the index's analysis settings, see analysis.ts)
 * and `analyzer`/`search_analyzer`/`search_quote_analyzer: "standard"` on text fields, the analyzer the query
 * engine implements; any other analyzer is refused.
 */
import { EsError, mapperParsing } from '../http/errors';
import type { AnalysisSettings } from './analysis';
import { resolveNormalizer } from './analysis';
import type { FieldMapping, FieldType, Mappings } from './contracts';
import { FIELD_TYPES } from './contracts';

/** ES-shaped mappings as stored and returned by GET /{index}/_mapping. */
export interface StoredMappings {
  dynamic?: 'false' | 'strict';
  _meta?: Record<string, unknown>;
  properties: Record<string, StoredField>;
}

export interface StoredField {
  type?: FieldType | 'object';
  fields?: Record<string, StoredSubField>;
  format?: string;
  /** keyword: a normalizer name (built-in `lowercase` or one of the index's `analysis.normalizer`). */
  normalizer?: string;
  /** text: always `standard` when given. */
  analyzer?: string;
  search_analyzer?: string;
  search_quote_analyzer?: string;
  properties?: Record<string, StoredField>;
}

/** A multi-field: a plain field (no `fields`, no `properties`, no `format`). */
export interface StoredSubField {
  type: FieldType;
  normalizer?: string;
  analyzer?: string;
  search_analyzer?: string;
  search_quote_analyzer?: string;
}

const SUPPORTED_DATE_FORMATS = new Set([
  'strict_date_optional_time',
  'date_optional_time',
  'epoch_millis',
  'strict_date_optional_time_nanos',
]);
/** Parameters that do not change what a query returns, so accepting and ignoring them is honest. */
const IGNORED_FIELD_PARAMS = new Set(['doc_values', 'store']);
/** Text-field analyzer parameters; `standard` is the only analyzer the query engine implements. */
const ANALYZER_PARAMS = ['analyzer', 'search_analyzer', 'search_quote_analyzer'] as const;
type AnalyzerParam = (typeof ANALYZER_PARAMS)[number];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unsupported(reason: string): EsError {
  return mapperParsing(reason);
}

/** ES reports a field's mapping error inside "Failed to parse mapping: ..." (the field's error is the root cause). */
function failedToParse(cause: EsError): EsError {
  return new EsError(400, 'mapper_parsing_exception', `Failed to parse mapping: ${cause.reason}`, {}, cause);
}

/** Validates a `mappings` request body (absent → empty mappings). Throws mapper_parsing_exception. */
export function parseMappings(body: unknown): StoredMappings {
  if (body === undefined || body === null) return { properties: {} };
  if (!isPlainObject(body)) throw unsupported('Failed to parse mapping: [mappings] must be an object');
  const result: StoredMappings = { properties: {} };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'properties') {
      try {
        result.properties = parseProperties(value, '');
      } catch (error) {
        if (
          error instanceof EsError &&
          error.type === 'mapper_parsing_exception' &&
          !error.reason.startsWith('Failed to parse mapping')
        )
          throw failedToParse(error);
        throw error;
      }
    } else if (key === 'dynamic') {
      const dynamic = String(value);
      if (dynamic === 'false' || dynamic === 'strict') result.dynamic = dynamic;
      else
        throw unsupported(
          `Failed to parse mapping: dynamic [${dynamic}] is not supported by this server (no dynamic mapping); use false or strict and map every searchable field`,
        );
    } else if (key === '_meta') {
      if (!isPlainObject(value)) throw unsupported('Failed to parse mapping: [_meta] must be an object');
      result._meta = value;
    } else {
      throw unsupported(`Failed to parse mapping: unsupported mapping parameter [${key}]`);
    }
  }
  return result;
}

function parseProperties(value: unknown, prefix: string): Record<string, StoredField> {
  if (!isPlainObject(value))
    throw unsupported(`Failed to parse mapping: [${prefix || 'properties'}] must be an object`);
  const out: Record<string, StoredField> = {};
  for (const [name, raw] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (!isPlainObject(raw)) throw unsupported(`Failed to parse mapping: field [${path}] must be an object`);
    out[name] = parseField(raw, path);
  }
  return out;
}

function parseField(raw: Record<string, unknown>, path: string): StoredField {
  const type = raw.type ?? (raw.properties !== undefined ? 'object' : undefined);
  if (type === 'object') {
    for (const key of Object.keys(raw)) {
      if (key !== 'type' && key !== 'properties')
        throw unsupported(`unsupported parameter [${key}] on object field [${path}]`);
    }
    return { type: 'object', properties: parseProperties(raw.properties ?? {}, path) };
  }
  if (typeof type !== 'string') throw unsupported(`No type specified for field [${path}]`);
  if (!(FIELD_TYPES as readonly string[]).includes(type))
    throw unsupported(
      `No handler for type [${type}] declared on field [${path}] (supported: ${FIELD_TYPES.join(', ')}, object)`,
    );
  const field: StoredField = { type: type as FieldType };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'type' || IGNORED_FIELD_PARAMS.has(key)) continue;
    if (key === 'format' && type === 'date') {
      const formats = String(value).split('||');
      for (const format of formats) {
        if (!SUPPORTED_DATE_FORMATS.has(format))
          throw unsupported(
            `unsupported date format [${format}] on field [${path}] (supported: ${[...SUPPORTED_DATE_FORMATS].join(', ')})`,
          );
      }
      field.format = String(value);
    } else if (key === 'normalizer' && type === 'keyword') {
      // null is ES's "no normalizer"; the name is resolved against the index's settings by checkNormalizers.
      if (value === null) continue;
      if (typeof value !== 'string') throw unsupported(`[normalizer] of field [${path}] must be a string`);
      field.normalizer = value;
    } else if ((ANALYZER_PARAMS as readonly string[]).includes(key) && type === 'text') {
      if (value !== 'standard')
        throw unsupported(
          `${key} [${String(value)}] on field [${path}] is not supported by this server: text fields are analysed with the [standard] analyzer only`,
        );
      field[key as AnalyzerParam] = value;
    } else if (key === 'fields') {
      if (!isPlainObject(value)) throw unsupported(`[fields] of field [${path}] must be an object`);
      const fields: Record<string, StoredSubField> = {};
      for (const [sub, subRaw] of Object.entries(value)) {
        if (!isPlainObject(subRaw)) throw unsupported(`multi-field [${path}.${sub}] must be an object`);
        const parsed = parseField(subRaw, `${path}.${sub}`);
        if (parsed.type === 'object' || parsed.fields !== undefined || parsed.type === undefined)
          throw unsupported(`multi-field [${path}.${sub}] must be a plain field`);
        const subField: StoredSubField = { type: parsed.type };
        if (parsed.normalizer !== undefined) subField.normalizer = parsed.normalizer;
        for (const param of ANALYZER_PARAMS) if (parsed[param] !== undefined) subField[param] = parsed[param];
        fields[sub] = subField;
      }
      field.fields = fields;
    } else {
      throw unsupported(`unknown parameter [${key}] on mapper [${path}] of type [${type}]`);
    }
  }
  return field;
}

/** `normalizer` cannot be updated in ES (omitting it in an update is a change to `null`). */
function checkNormalizerUpdate(
  existing: StoredSubField | StoredField,
  update: StoredSubField | StoredField,
  path: string,
) {
  if (existing.normalizer === update.normalizer) return;
  throw new EsError(
    400,
    'illegal_argument_exception',
    `Mapper for [${path}] conflicts with existing mapper:\n\tCannot update parameter [normalizer] from [${existing.normalizer ?? 'null'}] to [${update.normalizer ?? 'null'}]`,
  );
}

function typeChange(path: string, from: string | undefined, to: string | undefined): EsError {
  return new EsError(
    400,
    'illegal_argument_exception',
    `mapper [${path}] cannot be changed from type [${from}] to [${to}]`,
  );
}

/** Merges the multi-fields of an update: new ones are added, existing ones must keep type and normalizer. */
function mergeSubFields(
  existing: Record<string, StoredSubField> | undefined,
  update: Record<string, StoredSubField> | undefined,
  path: string,
): Record<string, StoredSubField> | undefined {
  if (update === undefined) return existing;
  const out: Record<string, StoredSubField> = { ...existing };
  for (const [name, field] of Object.entries(update)) {
    const old = existing?.[name];
    if (old !== undefined) {
      if (old.type !== field.type) throw typeChange(`${path}.${name}`, old.type, field.type);
      checkNormalizerUpdate(old, field, `${path}.${name}`);
    }
    out[name] = { ...old, ...field };
  }
  return out;
}

/**
 * Adds the fields of `update` to `current` (PUT _mapping); changing a field's type or normalizer is refused
 * as in ES. Returns the merged mappings.
 */
export function mergeMappings(current: StoredMappings, update: StoredMappings): StoredMappings {
  const merge = (
    a: Record<string, StoredField>,
    b: Record<string, StoredField>,
    prefix: string,
  ): Record<string, StoredField> => {
    const out: Record<string, StoredField> = { ...a };
    for (const [name, field] of Object.entries(b)) {
      const path = prefix ? `${prefix}.${name}` : name;
      const existing = a[name];
      if (existing === undefined) {
        out[name] = field;
      } else if (existing.type !== field.type) {
        throw typeChange(path, existing.type, field.type);
      } else if (field.type === 'object') {
        out[name] = {
          type: 'object',
          properties: merge(existing.properties ?? {}, field.properties ?? {}, path),
        };
      } else {
        checkNormalizerUpdate(existing, field, path);
        const { fields: _existingFields, ...existingParams } = existing;
        const { fields: _updateFields, ...updateParams } = field;
        const merged: StoredField = { ...existingParams, ...updateParams };
        const fields = mergeSubFields(existing.fields, field.fields, path);
        if (fields !== undefined) merged.fields = fields;
        out[name] = merged;
      }
    }
    return out;
  };
  return {
    ...current,
    ...(update.dynamic !== undefined ? { dynamic: update.dynamic } : {}),
    ...(update._meta !== undefined ? { _meta: update._meta } : {}),
    properties: merge(current.properties, update.properties, ''),
  };
}

/** ES's error for a normalizer name the index does not define (ES names the field by its leaf name). */
function normalizerNotFound(normalizer: string, leaf: string): EsError {
  return failedToParse(mapperParsing(`normalizer [${normalizer}] not found for field [${leaf}]`));
}

/** Calls `visit` for every keyword field and multi-field with a normalizer. */
function eachNormalizer(
  fields: Record<string, StoredField>,
  visit: (normalizer: string, leaf: string) => void,
): void {
  for (const [name, field] of Object.entries(fields)) {
    if (field.properties !== undefined) eachNormalizer(field.properties, visit);
    if (field.normalizer !== undefined) visit(field.normalizer, name);
    for (const [sub, subField] of Object.entries(field.fields ?? {}))
      if (subField.normalizer !== undefined) visit(subField.normalizer, sub);
  }
}

/** Throws ES's mapper_parsing_exception when a field names a normalizer the index does not have. */
export function checkNormalizers(stored: StoredMappings, analysis: AnalysisSettings | undefined): void {
  eachNormalizer(stored.properties, (normalizer, leaf) => {
    if (resolveNormalizer(normalizer, analysis) === undefined) throw normalizerNotFound(normalizer, leaf);
  });
}

/** Dotted-path view for the query engine, with normalizer names resolved to their filter chains. */
export function flattenMappings(stored: StoredMappings, analysis?: AnalysisSettings): Mappings {
  const properties: Record<string, FieldMapping> = {};
  const resolve = (normalizer: string, leaf: string) => {
    const filters = resolveNormalizer(normalizer, analysis);
    if (filters === undefined) throw normalizerNotFound(normalizer, leaf);
    return filters;
  };
  const walk = (fields: Record<string, StoredField>, prefix: string): void => {
    for (const [name, field] of Object.entries(fields)) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (field.type === 'object' || field.type === undefined) {
        walk(field.properties ?? {}, path);
      } else {
        const flat: FieldMapping = { type: field.type };
        if (field.fields !== undefined) {
          const subs: NonNullable<FieldMapping['fields']> = {};
          for (const [sub, subField] of Object.entries(field.fields)) {
            subs[sub] =
              subField.normalizer === undefined
                ? { type: subField.type }
                : { type: subField.type, normalizer: resolve(subField.normalizer, sub) };
          }
          flat.fields = subs;
        }
        if (field.format !== undefined) flat.format = field.format;
        if (field.normalizer !== undefined) flat.normalizer = resolve(field.normalizer, name);
        properties[path] = flat;
      }
    }
  };
  walk(stored.properties, '');
  return { properties };
}

const INTEGER_RANGE = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const ISO_DATE =
  /^\d{4}(-\d{2}(-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?)?$/;

function valueFits(type: FieldType, value: unknown, format: string | undefined): boolean {
  switch (type) {
    case 'text':
    case 'keyword':
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    case 'long':
    case 'integer': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return false;
      // ES coerces 1.5 to 1 for integer types; ranges are checked on the truncated value.
      const truncated = Math.trunc(n);
      return type === 'integer'
        ? truncated >= INTEGER_RANGE.min && truncated <= INTEGER_RANGE.max
        : Math.abs(truncated) <= 2 ** 63;
    }
    case 'double':
    case 'float': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && Number.isFinite(n);
    }
    case 'boolean':
      return value === true || value === false || value === 'true' || value === 'false' || value === '';
    case 'date': {
      const formats = (format ?? 'strict_date_optional_time||epoch_millis').split('||');
      if (typeof value === 'number') return Number.isFinite(value) && formats.includes('epoch_millis');
      if (typeof value !== 'string') return false;
      if (formats.includes('epoch_millis') && /^-?\d+$/.test(value)) return true;
      return (
        formats.some((f) => f !== 'epoch_millis') && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))
      );
    }
  }
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** Throws mapper_parsing_exception (or strict_dynamic_mapping_exception) when `source` does not fit. */
export function validateDocument(
  stored: StoredMappings,
  source: Record<string, unknown>,
  id: string,
  index: string,
): void {
  const fail = (path: string, type: string, value: unknown): never => {
    throw mapperParsing(
      `failed to parse field [${path}] of type [${type}] in document with id '${id}'. Preview of field's value: '${preview(value)}'`,
      index,
    );
  };
  const walkObject = (
    obj: Record<string, unknown>,
    fields: Record<string, StoredField>,
    prefix: string,
  ): void => {
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const field = fields[key];
      if (field === undefined) {
        if (stored.dynamic === 'strict')
          throw new EsError(
            400,
            'strict_dynamic_mapping_exception',
            `[1:1] mapping set to strict, dynamic introduction of [${key}] within [${prefix || '_doc'}] is not allowed`,
            { index },
          );
        continue;
      }
      walkValue(value, field, path);
    }
  };
  const walkValue = (value: unknown, field: StoredField, path: string): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (const item of value) walkValue(item, field, path);
      return;
    }
    if (field.type === 'object' || field.type === undefined) {
      if (!isPlainObject(value))
        throw mapperParsing(
          `object mapping for [${path}] tried to parse field [${path}] as object, but found a concrete value`,
          index,
        );
      walkObject(value, field.properties ?? {}, path);
      return;
    }
    if (!valueFits(field.type, value, field.format)) fail(path, field.type, value);
    for (const [sub, subField] of Object.entries(field.fields ?? {})) {
      if (!valueFits(subField.type, value, undefined)) fail(`${path}.${sub}`, subField.type, value);
    }
  };
  walkObject(source, stored.properties, '');
}
