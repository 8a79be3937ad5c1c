/**
 * The index mappings of a search view (Elasticsearch, or the embedded search server, which states what it
 * supports in infra/search/src/query/SUPPORTED.md). Text fields name their analysis; keyword fields that reads
 * filter on case-insensitively carry a normalised multi-field, which search queries declare as their normaliser.
 *
 *   mappings: {
 *     title: text({ raw: true }),             // full text (standard analyzer), plus title.raw as exact keyword
 *     city: keyword({ normalizer: 'lowercase' }), // city (exact, for facets) and city.lowercase (for filters)
 *     priceCents: long(),
 *   }
 */

export type SearchFieldType =
  | 'text'
  | 'keyword'
  | 'long'
  | 'integer'
  | 'double'
  | 'float'
  | 'date'
  | 'boolean';

/** Keyword normalisers every supported store has built in. */
export type KeywordNormalizer = 'lowercase';
export const KEYWORD_NORMALIZERS: readonly KeywordNormalizer[] = ['lowercase'];

/** The text analysis every supported store has: Elasticsearch's `standard` analyzer. */
export type TextAnalyzer = 'standard';

/** A multi-field: the same value indexed another way (`title.raw`, `city.lowercase`). */
export interface SearchSubField {
  type: SearchFieldType;
  normalizer?: KeywordNormalizer;
  analyzer?: TextAnalyzer;
}

/** One mapped field of a view's documents. */
export interface SearchFieldMapping extends SearchSubField {
  fields?: Record<string, SearchSubField>;
  format?: string;
}

/** Field name -> mapping; the keys are top-level document fields (others stay in `_source` only). */
export type SearchMappings<D = Record<string, unknown>> = { [K in keyof D & string]?: SearchFieldMapping };

/** Full text with the standard analyzer; `raw: true` adds `<field>.raw`, the exact value as a keyword. */
export function text(options: { raw?: boolean } = {}): SearchFieldMapping {
  return {
    type: 'text',
    analyzer: 'standard',
    ...(options.raw ? { fields: { raw: { type: 'keyword' } } } : {}),
  };
}

/**
 * An exact value (filters, facets, sorts). With a normaliser, `<field>.<normalizer>` holds the normalised value:
 * filters declared with that normaliser match it whatever the case, facets keep the original values.
 */
export function keyword(options: { normalizer?: KeywordNormalizer } = {}): SearchFieldMapping {
  const { normalizer } = options;
  return {
    type: 'keyword',
    ...(normalizer ? { fields: { [normalizer]: { type: 'keyword', normalizer } } } : {}),
  };
}

export const long = (): SearchFieldMapping => ({ type: 'long' });
export const integer = (): SearchFieldMapping => ({ type: 'integer' });
export const double = (): SearchFieldMapping => ({ type: 'double' });
export const date = (): SearchFieldMapping => ({ type: 'date' });
export const boolean = (): SearchFieldMapping => ({ type: 'boolean' });

/** The name of the multi-field that holds `field` normalised by `normalizer`, if the mapping has one. */
export function normalizedField(
  mappings: SearchMappings,
  field: string,
  normalizer: KeywordNormalizer,
): string | undefined {
  const mapping = (mappings as Record<string, SearchFieldMapping | undefined>)[field];
  if (mapping?.type !== 'keyword') return undefined;
  for (const [name, sub] of Object.entries(mapping.fields ?? {})) {
    if (sub.type === 'keyword' && sub.normalizer === normalizer) return `${field}.${name}`;
  }
  return undefined;
}
