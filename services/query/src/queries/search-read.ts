/**
 * A search query (defineQueries' searchQuery): the same token semantics as every read, and the search runs only
 * once the search view covers the token (its sink refreshes before the watermark is published).
 */
import { TidemarkError } from '@tidemark/schemas';
import type { ProjectionDocument, SearchQuery, SearchResult } from '@tidemark/sdk';
import type { ContextReads, ReadAnswer, ReadRequest } from '../consistent-reads';
import { answer } from '../consistent-reads';
import { VIEW_UNAVAILABLE } from '../errors';
import type { SearchParams } from '../search/search-params';
import { buildSearchRequest, searchResult } from '../search/search-request';
import type { ShadowSnapshot } from '../shadow';

export async function readSearch(
  reads: ContextReads,
  query: SearchQuery,
  params: SearchParams,
  request: ReadRequest,
): Promise<ReadAnswer<SearchResult<ProjectionDocument, string>>> {
  const { view } = query;
  if (!reads.views.isSearch(view.name)) {
    throw new TidemarkError(VIEW_UNAVAILABLE, `the ${view.name} search view is not configured`, 503, true, {
      view: view.name,
    });
  }
  const begun = await reads.begin(request);
  const reached = await reads.reach(view.name, begun);
  const body = buildSearchRequest(query, params);
  const run = async (version: number) =>
    searchResult(query, await reads.views.search(view.name, version).search(body));
  const result = await reads.lookup(reached, () => run(reached.version));
  reads.shadowRead(reached, JSON.stringify(params), searchSnapshot(result), async (v) =>
    searchSnapshot(await run(v)),
  );
  return answer(result, reached, view.store);
}

/** A search answer: the ordered hit ids and the total (scores and facets may differ between index versions). */
function searchSnapshot(result: SearchResult<ProjectionDocument, string>): ShadowSnapshot {
  return { value: { total: result.total, ids: result.hits.map((hit) => hit.id) } };
}
