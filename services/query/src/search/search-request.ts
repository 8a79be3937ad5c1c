/**
 * A search query as an Elasticsearch `_search` body, and the answer as the query's result (pure). Filters on a
 * normalised keyword field query its normalised multi-field (`city.lowercase`), with the value normalised here
 * too, so a store that does not normalise query terms still matches; facets count the original values.
 */
import { decodeSource, LIVE_DOCUMENTS } from '@tidemark/projection-elasticsearch';
import type { ProjectionDocument, SearchQuery, SearchResult } from '@tidemark/sdk';
import { normalizedField } from '@tidemark/sdk';
import type { SearchParams } from './search-params';

const NORMALIZE: Record<string, (value: string) => string> = { lowercase: (value) => value.toLowerCase() };

/** The `_search` body (without the index) of a search with validated parameters. */
export function buildSearchRequest(definition: SearchQuery, params: SearchParams): Record<string, unknown> {
  const mappings = definition.view.search?.mappings ?? {};
  const filter: Record<string, unknown>[] = [LIVE_DOCUMENTS];
  const ranges = new Map<string, Record<string, number>>();
  for (const [name, value] of Object.entries(params.filters)) {
    const spec = definition.filters[name];
    if (!spec) continue;
    switch (spec.kind) {
      case 'term': {
        const normalizer = spec.normalizer;
        const field = normalizer
          ? (normalizedField(mappings, spec.field, normalizer) ?? spec.field)
          : spec.field;
        const term = normalizer ? (NORMALIZE[normalizer]?.(String(value)) ?? String(value)) : value;
        filter.push({ term: { [field]: term } });
        break;
      }
      case 'choice':
        if (value !== spec.any) filter.push({ term: { [spec.field]: value } });
        break;
      case 'range':
        ranges.set(spec.field, { ...ranges.get(spec.field), [spec.bound]: Number(value) });
        break;
    }
  }
  for (const [field, bounds] of ranges) filter.push({ range: { [field]: bounds } });
  const must =
    params.text !== undefined && definition.text
      ? [{ multi_match: { query: params.text, fields: [...definition.text.fields] } }]
      : [{ match_all: {} }];
  const sort = definition.sorts[params.sort];
  const aggs = Object.fromEntries(
    Object.entries(definition.facets).map(([name, facet]) => [
      name,
      { terms: { field: facet.field, size: facet.size } },
    ]),
  );
  return {
    query: { bool: { must, filter } },
    from: params.from,
    size: params.size,
    track_total_hits: true,
    // Ties broken by the tie breaker: pages are stable.
    ...(sort && sort !== 'relevance'
      ? {
          sort: [
            ...sort.map(({ field, order }) => ({ [field]: { order } })),
            { [definition.tieBreaker]: { order: 'asc' } },
          ],
        }
      : {}),
    ...(Object.keys(aggs).length > 0 ? { aggs } : {}),
  };
}

/** The parts of an Elasticsearch `_search` answer a search reads. */
export interface SearchAnswer {
  hits: {
    total?: number | { value: number };
    hits: { _id?: string | null; _score?: number | null; _source?: unknown }[];
  };
  aggregations?: Record<string, unknown>;
}

/** Maps a `_search` answer to the query's result: hits under the query's hit name, facets by name. */
export function searchResult<D extends ProjectionDocument, H extends string>(
  definition: SearchQuery<D, H>,
  answer: SearchAnswer,
): SearchResult<D, H> {
  const total = answer.hits.total;
  const hits = answer.hits.hits.map((hit) => {
    const { meta, doc } = decodeSource<D>(hit._source, hit._id ?? '?');
    // Tombstones are filtered out by the query; a tombstone here would be a store bug.
    if (!doc) throw new Error(`search answered a deleted document (${hit._id ?? '?'})`);
    const id = doc[definition.tieBreaker];
    return {
      id: typeof id === 'string' ? id : meta.key,
      score: typeof hit._score === 'number' ? hit._score : null,
      [definition.hit]: doc,
    } as SearchResult<D, H>['hits'][number];
  });
  const facets: Record<string, { key: string; count: number }[]> = {};
  for (const name of Object.keys(definition.facets)) {
    const buckets = (
      answer.aggregations?.[name] as { buckets?: { key: unknown; doc_count: unknown }[] } | undefined
    )?.buckets;
    facets[name] = (buckets ?? []).map((b) => ({ key: String(b.key), count: Number(b.doc_count) }));
  }
  return {
    total: typeof total === 'number' ? total : (total?.value ?? hits.length),
    hits,
    facets,
  };
}
