/**
 * The Elasticsearch sink (DESIGN.md, Projections and sinks): every document write carries an external version
 * equal to its position, so the store itself refuses stale writes (409, expected and ignored); the partition's
 * checkpoint is written after the documents are searchable, so a published watermark never runs ahead of search.
 *
 * Not atomic: documents first, then the checkpoint (the contract's non-atomic mode). A projector killed in
 * between re-applies the batch, which the external versions turn into no-ops.
 */
import { Client, errors } from '@elastic/elasticsearch';
import type {
  DocumentWrite,
  Lookup,
  ProjectionDefinition,
  ProjectionDocument,
  Sink,
} from '@tidemark/projection-runtime';
import {
  checkpointId,
  decodeSource,
  documentId,
  type ElasticsearchTargetNames,
  elasticsearchTargetNames,
  encodeSource,
  META_FIELD,
  META_MAPPINGS,
} from './naming';

/** A projection definition whose `search` mappings (the SDK's) say how the view's documents are indexed. */
export type ElasticsearchProjectionDefinition<D extends ProjectionDocument = ProjectionDocument> =
  ProjectionDefinition<D>;

export interface ElasticsearchSinkOptions {
  /** http://host:port; used to create a client the sink owns (closed on close()). */
  node?: string;
  /** A client shared with others: the sink never closes it. One of node and client is required. */
  client?: Client;
  /**
   * How commit() makes its writes searchable before returning: 'wait_for' (default: waits for the next
   * periodic refresh, cheap under load) or true (forces a refresh now: lower latency, more refreshes).
   */
  refresh?: 'wait_for' | true;
  /**
   * P: when given, checkpoints() reads each partition's checkpoint document by id (real-time GETs) instead of a
   * refresh and a search of the checkpoints index.
   */
  partitions?: number;
  /** Receives `alias moved` when activate() moves the projection's alias (none: not logged). */
  logger?: { info(details: Record<string, unknown>, message: string): void };
  /** Parallel `_mget` requests of a load() that needs more than one (default 4). */
  concurrency?: number;
  /** Ids per `_mget` request of a load() (default 5,000). */
  mgetChunk?: number;
}

/** The sink plus what a search reader and tests need. */
export interface ElasticsearchSink<D extends ProjectionDocument = ProjectionDocument> extends Sink<D> {
  readonly store: 'elasticsearch';
  readonly names: ElasticsearchTargetNames;
  readonly client: Client;
  /** The document half of commit(): one `_bulk`, searchable when it returns; the checkpoint does not move. */
  writeDocuments(partition: number, writes: readonly DocumentWrite<D>[]): Promise<void>;
  /** Moves the projection's alias to this version's index (atomically); the undo gives it back. */
  activate(): Promise<{ undo(): Promise<void> }>;
}

/** Keeps the highest position per key: the bulk then never depends on the order of its items. */
export function dedupeWrites<D extends ProjectionDocument>(
  writes: readonly DocumentWrite<D>[],
): DocumentWrite<D>[] {
  const best = new Map<string, DocumentWrite<D>>();
  for (const w of writes) {
    const current = best.get(w.key);
    if (!current || w.position > current.position) best.set(w.key, w);
  }
  return [...best.values()];
}

function checkPosition(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`elasticsearch sink: ${what} must be a non-negative safe integer, got ${value}`);
  }
}

/** The index mappings of a projection version: the bookkeeping fields plus the projection's search fields. */
export function viewMappings(definition: ElasticsearchProjectionDefinition): Record<string, unknown> {
  const fields = definition.search?.mappings ?? {};
  if (META_FIELD in fields) throw new Error(`elasticsearch sink: '${META_FIELD}' is reserved`);
  // Without search mappings the documents are only stored (dynamic mapping decides, where the store does it).
  return { properties: { ...fields, [META_FIELD]: META_MAPPINGS } };
}

export const CHECKPOINT_MAPPINGS = {
  properties: { partition: { type: 'integer' }, checkpoint: { type: 'long' } },
} as const;

function statusOf(error: unknown): number | undefined {
  return error instanceof errors.ResponseError ? error.statusCode : undefined;
}

function errorType(error: unknown): string | undefined {
  if (!(error instanceof errors.ResponseError)) return undefined;
  const body = error.body as { error?: { type?: unknown } } | undefined;
  return typeof body?.error?.type === 'string' ? body.error.type : undefined;
}

interface BulkItemResult {
  status: number;
  error?: unknown;
  _id?: string | null;
}

class ElasticsearchSinkImpl<D extends ProjectionDocument> implements ElasticsearchSink<D> {
  readonly store = 'elasticsearch' as const;
  readonly names: ElasticsearchTargetNames;
  private readonly refresh: 'wait_for' | true;
  private readonly concurrency: number;
  private readonly mgetChunk: number;

  constructor(
    private readonly definition: ElasticsearchProjectionDefinition<D>,
    readonly client: Client,
    private readonly ownsClient: boolean,
    private readonly options: ElasticsearchSinkOptions,
  ) {
    this.names = elasticsearchTargetNames(definition);
    this.refresh = options.refresh ?? 'wait_for';
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.mgetChunk = Math.max(1, options.mgetChunk ?? 5_000);
    if (
      options.partitions !== undefined &&
      (!Number.isSafeInteger(options.partitions) || options.partitions < 1)
    ) {
      throw new Error('elasticsearch sink: partitions must be a positive integer');
    }
  }

  async prepare(): Promise<void> {
    await this.createIndex(
      this.names.index,
      viewMappings(this.definition as ElasticsearchProjectionDefinition),
    );
    await this.createIndex(this.names.checkpoints, CHECKPOINT_MAPPINGS);
    await this.claimAlias();
  }

  /**
   * The projection's version-independent alias points at one version's index. The first version to be prepared
   * takes it (as the control table makes the first version active); later versions leave it alone, and a
   * cutover moves it in one `_aliases` call (activate()).
   */
  private async claimAlias(): Promise<void> {
    const { alias, index } = this.names;
    if (await this.client.indices.existsAlias({ name: alias })) return;
    try {
      await this.client.indices.updateAliases({ actions: [{ add: { index, alias } }] });
    } catch (error) {
      // Another version's sink claimed it in between; it stays there.
      if (!(await this.client.indices.existsAlias({ name: alias }))) throw error;
    }
  }

  private async createIndex(index: string, mappings: Record<string, unknown>): Promise<void> {
    if (await this.client.indices.exists({ index })) return;
    try {
      await this.client.indices.create({ index, mappings });
    } catch (error) {
      // Another sink of the same version created it in between.
      if (errorType(error) !== 'resource_already_exists_exception') throw error;
    }
  }

  async checkpoints(): Promise<Map<number, number>> {
    const result = new Map<number, number>();
    const { partitions } = this.options;
    if (partitions !== undefined) {
      const found = await Promise.all(
        Array.from({ length: partitions }, (_, p) => this.getSource(this.names.checkpoints, checkpointId(p))),
      );
      found.forEach((source, p) => {
        const checkpoint = source?.checkpoint;
        if (typeof checkpoint === 'number') result.set(p, checkpoint);
      });
      return result;
    }
    // Checkpoint writes do not refresh (they are small and frequent); this refresh makes them all searchable.
    try {
      await this.client.indices.refresh({ index: this.names.checkpoints });
      const answer = await this.client.search<{ partition: number; checkpoint: number }>({
        index: this.names.checkpoints,
        query: { match_all: {} },
        size: 10_000,
      });
      for (const hit of answer.hits.hits) {
        const source = hit._source;
        if (source && typeof source.partition === 'number' && typeof source.checkpoint === 'number') {
          result.set(source.partition, source.checkpoint);
        }
      }
    } catch (error) {
      // A dropped (or never prepared) version has no checkpoints.
      if (statusOf(error) !== 404) throw error;
    }
    return new Map([...result].sort((a, b) => a[0] - b[0]));
  }

  /** `_source` of a document by id (GET is real-time), or undefined when the document or the index is missing. */
  private async getSource(index: string, id: string): Promise<Record<string, unknown> | undefined> {
    const answer = await this.client.get<Record<string, unknown>>({ index, id }, { ignore: [404] });
    return answer.found ? answer._source : undefined;
  }

  async load(partition: number, keys: readonly string[]): Promise<Map<string, Lookup<D>>> {
    const unique = [...new Set(keys)];
    const result = new Map<string, Lookup<D>>();
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += this.mgetChunk) chunks.push(unique.slice(i, i + this.mgetChunk));
    // Real-time multi-gets (a search would only see refreshed documents), a bounded number at a time.
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++] as string[];
        const found = await this.loadChunk(partition, chunk);
        chunk.forEach((key, i) => {
          result.set(key, found[i] ?? 'absent');
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, chunks.length) }, worker));
    // In the order asked for.
    return new Map(keys.map((key) => [key, result.get(key) ?? 'absent']));
  }

  /** One `_mget` of distinct keys; the lookups in the order of `keys`. */
  private async loadChunk(partition: number, keys: readonly string[]): Promise<Lookup<D>[]> {
    const index = this.names.index;
    const ids = keys.map((key) => documentId(partition, key));
    const answer = await this.client.mget<Record<string, unknown>>({ index, ids });
    if (answer.docs.length !== ids.length) {
      throw new Error(
        `elasticsearch sink: _mget of ${ids.length} ids in ${index} answered ${answer.docs.length} documents`,
      );
    }
    return answer.docs.map((item, i): Lookup<D> => {
      const key = keys[i] as string;
      const id = ids[i] as string;
      if (item._id !== id) throw new Error(`elasticsearch sink: _mget answered [${item._id}] for [${id}]`);
      if ('error' in item) {
        // A dropped (or never prepared) version: nothing was written, as a GET's 404 says.
        if (item.error.type === 'index_not_found_exception') return 'absent';
        throw new Error(
          `elasticsearch sink: reading ${index}/${id} failed: ${item.error.type}: ${item.error.reason ?? ''}`,
        );
      }
      // Elasticsearch is durable: a missing document was never written (or the version was dropped).
      if (!item.found || item._source === undefined) return 'absent';
      const { meta, doc } = decodeSource<D>(item._source, `${index}/${id}`);
      return { key, partition, doc, position: meta.position };
    });
  }

  async read(partition: number, key: string): Promise<Lookup<D>> {
    const id = documentId(partition, key);
    const source = await this.getSource(this.names.index, id);
    // Elasticsearch is durable: a missing document was never written (or the version was dropped).
    if (source === undefined) return 'absent';
    const { meta, doc } = decodeSource<D>(source, `${this.names.index}/${id}`);
    return { key, partition, doc, position: meta.position };
  }

  async writeDocuments(partition: number, writes: readonly DocumentWrite<D>[]): Promise<void> {
    if (writes.length === 0) return;
    const operations: unknown[] = [];
    // Everything is encoded before anything is sent: a bad write fails the batch before it touches the store.
    for (const write of dedupeWrites(writes)) {
      checkPosition(`position of ${JSON.stringify(write.key)}`, write.position);
      operations.push(
        {
          index: {
            _index: this.names.index,
            _id: documentId(partition, write.key),
            version: write.position,
            version_type: 'external',
          },
        },
        encodeSource(partition, write.key, write.position, write.doc),
      );
    }
    const answer = await this.client.bulk({ operations, refresh: this.refresh });
    if (!answer.errors) return;
    const failures: string[] = [];
    for (const item of answer.items) {
      const result = Object.values(item)[0] as BulkItemResult | undefined;
      // 409: a write not newer than the stored document (a replay or a lagging writer): refused, as intended.
      if (!result || result.status < 300 || result.status === 409) continue;
      failures.push(`${result._id ?? '?'}: ${result.status} ${JSON.stringify(result.error)}`);
    }
    if (failures.length > 0) {
      // The runtime retries the batch; re-applying it is idempotent.
      throw new Error(
        `elasticsearch sink: ${failures.length} of ${operations.length / 2} writes failed in ${this.names.index}: ${failures.slice(0, 3).join('; ')}`,
      );
    }
  }

  async commit(partition: number, writes: readonly DocumentWrite<D>[], checkpoint: number): Promise<void> {
    checkPosition('checkpoint', checkpoint);
    // Documents first and searchable (refresh on the bulk), then the checkpoint: the runtime publishes the
    // watermark right after commit returns.
    await this.writeDocuments(partition, writes);
    try {
      await this.client.index({
        index: this.names.checkpoints,
        id: checkpointId(partition),
        document: { partition, checkpoint },
        // External version = checkpoint: an older (or equal) checkpoint is refused, so it never goes backwards.
        version: checkpoint,
        version_type: 'external',
      });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
  }

  /**
   * Moves the alias `tm-<ctx>-<name>` to this version's index in ONE `POST /_aliases` (removed from whatever
   * holds it, added here): atomic for every reader of the alias. The undo gives it back to what held it.
   */
  async activate(): Promise<{ undo(): Promise<void> }> {
    const { alias, index } = this.names;
    const previous = await this.aliasHolders();
    try {
      await this.moveAlias(previous, [index]);
    } catch (error) {
      // A request that failed may still have been applied (an answer lost on the way): put back what moved.
      await this.restoreAlias(previous).catch(() => undefined);
      throw error;
    }
    this.options.logger?.info({ alias, from: previous, to: index }, 'alias moved');
    return { undo: () => this.restoreAlias(previous) };
  }

  /** The indices the projection's alias points at (none when it does not exist). */
  private async aliasHolders(): Promise<string[]> {
    const { alias } = this.names;
    if (!(await this.client.indices.existsAlias({ name: alias }))) return [];
    return Object.keys(await this.client.indices.getAlias({ name: alias }));
  }

  /** Moves the alias from `from` to exactly `to` in one `_aliases` call (none when they agree). */
  private async moveAlias(from: readonly string[], to: readonly string[]): Promise<void> {
    const { alias } = this.names;
    const actions = [
      ...from.filter((held) => !to.includes(held)).map((held) => ({ remove: { index: held, alias } })),
      ...to.filter((wanted) => !from.includes(wanted)).map((wanted) => ({ add: { index: wanted, alias } })),
    ];
    if (actions.length > 0) await this.client.indices.updateAliases({ actions });
  }

  /** Points the alias at exactly `holders` again, from wherever it is now. */
  private async restoreAlias(holders: readonly string[]): Promise<void> {
    await this.moveAlias(await this.aliasHolders(), holders);
  }

  async drop(): Promise<void> {
    // The checkpoints go first: a drop interrupted half-way leaves a version that is empty by its checkpoints.
    await this.client.indices.delete({ index: this.names.checkpoints }, { ignore: [404] });
    await this.client.indices.delete({ index: this.names.index }, { ignore: [404] });
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}

/** The Elasticsearch sink of a projection version. */
export function createElasticsearchSink<D extends ProjectionDocument = ProjectionDocument>(
  definition: ElasticsearchProjectionDefinition<D>,
  options: ElasticsearchSinkOptions,
): ElasticsearchSink<D> {
  if (options.client) return new ElasticsearchSinkImpl(definition, options.client, false, options);
  if (!options.node) throw new Error('createElasticsearchSink needs a node or a client');
  return new ElasticsearchSinkImpl(definition, new Client({ node: options.node }), true, options);
}
