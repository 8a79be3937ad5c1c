/**
 * One version of a search view, as the query API uses it (SearchView), and its Elasticsearch implementation
 * over @elastic/elasticsearch, reading the index the Elasticsearch sink of that projection version writes.
 */
import type { estypes } from '@elastic/elasticsearch';
import { Client } from '@elastic/elasticsearch';
import { createElasticsearchSink } from '@tidemark/projection-elasticsearch';
import type { ProjectionDefinition } from '@tidemark/sdk';
import type { SearchAnswer } from './search-request';

export interface SearchView {
  /** partition -> checkpoint (the version's watermark authority). */
  checkpoints(): Promise<Map<number, number>>;
  /** Runs a `_search` body (buildSearchRequest) against the version's index. */
  search(body: Record<string, unknown>): Promise<SearchAnswer>;
  close(): Promise<void>;
}

export interface ElasticsearchSearchViewOptions {
  /** The projection version whose index is read. */
  definition: ProjectionDefinition;
  /** http://host:port: a client the view owns (closed on close()). One of node and client is required. */
  node?: string;
  /** A shared client: never closed here. */
  client?: Client;
  /** P: checkpoints are then read by id (real-time) rather than by a search of the checkpoints index. */
  partitions?: number;
}

export function createElasticsearchSearchView(options: ElasticsearchSearchViewOptions): SearchView {
  if (!options.client && !options.node)
    throw new Error('createElasticsearchSearchView needs a node or a client');
  const owned = options.client ? undefined : new Client({ node: options.node });
  const client = options.client ?? (owned as Client);
  const sink = createElasticsearchSink(options.definition, {
    client,
    ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
  });
  return {
    checkpoints: () => sink.checkpoints(),
    async search(body) {
      // The builder's plain JSON is what the typed request describes; the cast only bridges the literal types.
      const request = { index: sink.names.index, ...body } as unknown as estypes.SearchRequest;
      return (await client.search(request)) as SearchAnswer;
    },
    async close() {
      await owned?.close();
    },
  };
}
