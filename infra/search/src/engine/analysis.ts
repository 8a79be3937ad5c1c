/**
 * Index analysis settings. Only keyword normalizers are configurable, with ES's syntax
 * (`settings.analysis.normalizer.<name>: {type: 'custom', filter: [...]}`); text fields always use the
 * standard analyzer (the one the query engine implements), so analyzers, tokenizers and custom filter or
 * char_filter definitions are refused rather than silently ignored.
 */
import { illegalArgument } from '../http/errors';
import type { NormalizerFilter } from './contracts';
import { NORMALIZER_FILTERS } from './contracts';

/** One normalizer definition as given (returned unchanged by GET /{index}). */
export interface NormalizerSettings {
  type?: string;
  filter?: string | string[];
  char_filter?: string | string[];
}

/** `index.analysis` as given; persisted with the index in the catalog. */
export interface AnalysisSettings {
  normalizer: Record<string, NormalizerSettings>;
}

/** ES ships one built-in normalizer. */
const BUILTIN_NORMALIZERS: Readonly<Record<string, readonly NormalizerFilter[]>> = {
  lowercase: ['lowercase'],
};

/** Filters ES allows in a normalizer that this server does not implement (named in the refusal). */
const ES_ONLY_NORMALIZER_FILTERS = new Set([
  'arabic_normalization',
  'bengali_normalization',
  'cjk_width',
  'decimal_digit',
  'elision',
  'german_normalization',
  'hindi_normalization',
  'indic_normalization',
  'pattern_replace',
  'persian_normalization',
  'scandinavian_folding',
  'serbian_normalization',
  'sorani_normalization',
]);

const SUPPORTED = `index.analysis.normalizer.<name> with type [custom] and filter ${JSON.stringify(NORMALIZER_FILTERS)}`;

function names(value: unknown, what: string, normalizer: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string'))
    throw illegalArgument(`[${what}] of normalizer [${normalizer}] must be a name or an array of names`);
  return list as string[];
}

/**
 * Builds the analysis settings from the keys below `index.analysis.` (dotted, arrays kept as arrays, e.g.
 * `normalizer.folded.filter` → `['lowercase', 'asciifolding']`). Throws ES's illegal_argument_exception for a
 * bad normalizer and a 400 naming what is supported for anything this server does not implement.
 */
export function parseAnalysis(flat: ReadonlyArray<[string, unknown]>): AnalysisSettings | undefined {
  const normalizer: Record<string, NormalizerSettings> = {};
  for (const [key, value] of flat) {
    const [section, name, ...rest] = key.split('.');
    if (section !== 'normalizer')
      throw illegalArgument(
        `analysis setting [index.analysis.${key}] is not supported by this server: only keyword normalizers are (${SUPPORTED}); text fields use the standard analyzer`,
      );
    if (name === undefined) continue; // `normalizer: {}`
    const def = Object.hasOwn(normalizer, name) ? (normalizer[name] as NormalizerSettings) : {};
    normalizer[name] = def;
    const param = rest.join('.');
    if (param === '') continue; // `<name>: {}`: no filters
    if (param === 'type') def.type = String(value);
    else if (param === 'filter' || param === 'char_filter') {
      names(value, param, name);
      def[param] = value as string | string[];
    } else if (param === 'tokenizer')
      throw illegalArgument(`Custom normalizer [${name}] cannot configure a tokenizer`);
    else
      throw illegalArgument(
        `unsupported parameter [${param}] of normalizer [${name}] (supported: type, filter, char_filter)`,
      );
  }
  for (const [name, def] of Object.entries(normalizer)) {
    if (def.type !== undefined && def.type !== 'custom')
      throw illegalArgument(`Unknown normalizer type [${def.type}] for [${name}]`);
    const charFilters = def.char_filter === undefined ? [] : names(def.char_filter, 'char_filter', name);
    if (charFilters.length > 0)
      throw illegalArgument(
        `Custom normalizer [${name}] may not use char_filter [${charFilters[0]}]: this server supports no char filters (${SUPPORTED})`,
      );
    for (const filter of def.filter === undefined ? [] : names(def.filter, 'filter', name)) {
      if ((NORMALIZER_FILTERS as readonly string[]).includes(filter)) continue;
      throw illegalArgument(
        ES_ONLY_NORMALIZER_FILTERS.has(filter)
          ? `Custom normalizer [${name}] uses filter [${filter}], which this server does not implement (supported: ${NORMALIZER_FILTERS.join(', ')})`
          : `Custom normalizer [${name}] may not use filter [${filter}] (supported: ${NORMALIZER_FILTERS.join(', ')})`,
      );
    }
  }
  return Object.keys(normalizer).length === 0 ? undefined : { normalizer };
}

/** The filter chain of a normalizer name: the index's own definitions first, then ES's built-in `lowercase`. */
export function resolveNormalizer(
  name: string,
  analysis: AnalysisSettings | undefined,
): readonly NormalizerFilter[] | undefined {
  if (analysis !== undefined && Object.hasOwn(analysis.normalizer, name)) {
    const filter = (analysis.normalizer[name] as NormalizerSettings).filter;
    return (filter === undefined ? [] : typeof filter === 'string' ? [filter] : filter) as NormalizerFilter[];
  }
  return Object.hasOwn(BUILTIN_NORMALIZERS, name) ? BUILTIN_NORMALIZERS[name] : undefined;
}
