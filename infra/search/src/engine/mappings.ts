/**
 * Index mappings: parsing/validating a `mappings` body, flattening it for the query engine, and checking that a
 * document's values fit their mapped types (ES rejects such documents with mapper_parsing_exception).
 *
 * Dynamic mapping: we never add fields on our own. Unmapped fields behave like ES `dynamic: false` (kept in
 * `_source`, not searchable) unless the mappings say `dynamic: "strict"` (then the document is rejected).
 */
import { EsError, mapperParsing } from '../http/errors';
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
  fields?: Record<string, { type: FieldType }>;
  format?: string;
  properties?: Record<string, StoredField>;
}

const SUPPORTED_DATE_FORMATS = new Set([
  'strict_date_optional_time',
  'date_optional_time',
  'epoch_millis',
  'strict_date_optional_time_nanos',
]);
/** Parameters that do not change what a query returns, so accepting and ignoring them is honest. */
const IGNORED_FIELD_PARAMS = new Set(['doc_values', 'store']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unsupported(reason: string): EsError {
  return mapperParsing(reason);
}

/** Validates a `mappings` request body (absent → empty mappings). Throws mapper_parsing_exception. */
export function parseMappings(body: unknown): StoredMappings {
  if (body === undefined || body === null) return { properties: {} };
  if (!isPlainObject(body)) throw unsupported('Failed to parse mapping: [mappings] must be an object');
  const result: StoredMappings = { properties: {} };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'properties') {
      result.properties = parseProperties(value, '');
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
    } else if (key === 'fields') {
      if (!isPlainObject(value)) throw unsupported(`[fields] of field [${path}] must be an object`);
      const fields: Record<string, { type: FieldType }> = {};
      for (const [sub, subRaw] of Object.entries(value)) {
        if (!isPlainObject(subRaw)) throw unsupported(`multi-field [${path}.${sub}] must be an object`);
        const parsed = parseField(subRaw, `${path}.${sub}`);
        if (parsed.type === 'object' || parsed.fields !== undefined || parsed.type === undefined)
          throw unsupported(`multi-field [${path}.${sub}] must be a plain field`);
        fields[sub] = { type: parsed.type };
      }
      field.fields = fields;
    } else {
      throw unsupported(`unknown parameter [${key}] on mapper [${path}] of type [${type}]`);
    }
  }
  return field;
}

/**
 * Adds the fields of `update` to `current` (PUT _mapping); changing a field's type is refused as in ES.
 * Returns the merged mappings.
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
        throw new EsError(
          400,
          'illegal_argument_exception',
          `mapper [${path}] cannot be changed from type [${existing.type}] to [${field.type}]`,
        );
      } else if (field.type === 'object') {
        out[name] = {
          type: 'object',
          properties: merge(existing.properties ?? {}, field.properties ?? {}, path),
        };
      } else {
        out[name] = { ...existing, fields: { ...existing.fields, ...field.fields } };
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

/** Dotted-path view for the query engine. */
export function flattenMappings(stored: StoredMappings): Mappings {
  const properties: Record<string, FieldMapping> = {};
  const walk = (fields: Record<string, StoredField>, prefix: string): void => {
    for (const [name, field] of Object.entries(fields)) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (field.type === 'object' || field.type === undefined) {
        walk(field.properties ?? {}, path);
      } else {
        const flat: FieldMapping = { type: field.type };
        if (field.fields !== undefined) flat.fields = field.fields;
        if (field.format !== undefined) flat.format = field.format;
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
