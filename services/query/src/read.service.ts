/**
 * Consistent reads (DESIGN.md, Positions and tokens): decode the request's token against the events topic,
 * refuse one past the end of the log, wait (bounded) until the view's version covers it, read, and answer with
 * that version's watermark merged into the request token. "Not found" only comes from a view that covers the
 * token; a store that does not know ('unknown') is never a 404.
 *
 * Which version answers (DESIGN.md, Versions and cutover): the active one, except during a gradual cutover in
 * split mode, where `percent`% of reads (drawn per read) go to the candidate with the same token semantics. In
 * shadow mode the active version answers and the same read is compared on the candidate afterwards (shadow.ts).
 * Every answer names the version in the Consistency-Version header.
 */
import { Inject, Injectable } from '@nestjs/common';
import { partitionForKey } from '@tidemark/kafka';
import type { ListingCard, ListingDetail, SellerStats } from '@tidemark/listings-projections';
import { cardFromDetail, mergeSellerStats } from '@tidemark/listings-projections';
import type { Lookup, ProjectionDocument, StoredDocument } from '@tidemark/projection-runtime';
import type { ConsistencyToken } from '@tidemark/schemas';
import {
  covers,
  decodeToken,
  EMPTY_TOKEN,
  encodeToken,
  mergeTokens,
  TidemarkError,
  tokenFromPositions,
} from '@tidemark/schemas';
import type { Logger } from 'pino';
import {
  CONSISTENCY_TIMEOUT,
  INVALID_ID,
  LISTING_NOT_FOUND,
  QueryError,
  REQUEST_ABORTED,
  SELLER_NOT_FOUND,
  TOKEN_AHEAD_OF_LOG,
  TOPIC_IDENTITY_UNAVAILABLE,
  VIEW_UNAVAILABLE,
} from './errors';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { QueryMetrics } from './metrics';
import type { ResolvedQueryOptions } from './options';
import type { ListingSearchParams, ListingSearchResult } from './search/listing-search';
import type { ShadowSnapshot } from './shadow';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { ShadowReads } from './shadow';
import { QUERY_LOGGER, QUERY_OPTIONS_RESOLVED, WATERMARK_TRACKER } from './tokens';
import type { ReadView } from './views';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { projectionOf, SEARCH_PROJECTION, ViewSinks } from './views';
import type { WatermarkTracker } from './watermark-tracker';

/** Longest id accepted (aggregate ids and seller ids are at most 200 characters). */
export const MAX_ID_LENGTH = 200;

export interface ReadRequest {
  /** The Consistency-Token request header, if any. */
  token?: string | undefined;
  /** stale=ok: no wait; an answer from a view that does not cover the token is marked stale. */
  stale?: boolean;
  /** A lower wait bound than the configured one (ms). */
  waitMs?: number | undefined;
  /** Fires when the client goes away. */
  signal?: AbortSignal;
}

/** Where an answer came from (the X-Tidemark-Source header). */
export type ReadSource = 'postgres' | 'redis' | 'memcached' | 'postgres-fallback' | 'elasticsearch';

export interface ReadAnswer<D> {
  data: D;
  /** The Consistency-Token to answer with: the view's watermark merged with the request token. */
  token: string;
  /** True when the view read did not cover the request token (only with stale=ok). */
  stale: boolean;
  source: ReadSource;
  /** `<projection>.v<N>`: the view version read. */
  view: string;
  /** The version that answered (the Consistency-Version header). */
  version: number;
}

interface Reached {
  view: ReadView;
  projection: string;
  version: number;
  /** Whether the version is the active one or the candidate of a split cutover. */
  role: 'active' | 'candidate';
  token: string;
  /** The same token, decoded (shadow reads compare at it). */
  merged: ConsistencyToken;
  stale: boolean;
}

interface Begun {
  token: ConsistencyToken;
  deadline: number;
  request: ReadRequest;
  /** The token was checked against the log's end (done only when the view does not cover it quickly). */
  logChecked: boolean;
}

/**
 * How long a read waits before it asks the log whether its token is past the end. Almost every token is covered
 * within milliseconds (it came from a write that is in the log), so the look at the log, a broker round trip per
 * read, is saved; a forged token still gets its 400 after this short wait rather than after the whole bound.
 */
const LOG_CHECK_AFTER_MS = 100;

@Injectable()
export class ListingsReader {
  private identity: Promise<string> | undefined;
  /** Highest log end seen per partition: it only grows, so a token below it needs no round trip. */
  private readonly knownLogEnds = new Map<number, number>();

  constructor(
    @Inject(QUERY_OPTIONS_RESOLVED) private readonly options: ResolvedQueryOptions,
    @Inject(WATERMARK_TRACKER) private readonly tracker: WatermarkTracker,
    private readonly sinks: ViewSinks,
    private readonly metrics: QueryMetrics,
    @Inject(QUERY_LOGGER) private readonly logger: Logger,
    private readonly shadow: ShadowReads,
  ) {}

  async detail(id: string, request: ReadRequest): Promise<ReadAnswer<ListingDetail>> {
    validateId(id, 'listing id');
    const begun = await this.begin(request);
    const reached = await this.reach('detail', begun);
    const partition = this.partitionOf(id);
    const read = (version: number) => this.sinks.sink('detail', version).read(partition, id);
    const found = await this.lookup(reached, () => read(reached.version));
    const doc = this.knownDocument(found, reached);
    this.shadowRead(reached, id, keyedSnapshot(partition, found), async (v) =>
      keyedSnapshot(partition, await read(v)),
    );
    if (!doc) throw notFound(LISTING_NOT_FOUND, `no listing '${id}'`, { id }, reached);
    return answer(doc, reached, 'postgres');
  }

  async card(id: string, request: ReadRequest): Promise<ReadAnswer<ListingCard>> {
    validateId(id, 'listing id');
    const begun = await this.begin(request);
    const reached = await this.reach('cards', begun);
    const partition = this.partitionOf(id);
    const read = (version: number) => this.sinks.sink('cards', version).read(partition, id);
    let found: Lookup<ListingCard>;
    let reason = 'unknown';
    try {
      found = await read(reached.version);
    } catch (error) {
      // A cache that fails is a cache that does not know: the detail view answers.
      this.logger.warn({ err: error, id }, 'card read failed; falling back to the detail view');
      found = 'unknown';
      reason = 'error';
    }
    // A card derived from the detail view is not the card view's answer: that shadow read counts as skipped.
    this.shadowRead(reached, id, keyedSnapshot(partition, found), async (v) =>
      keyedSnapshot(partition, await read(v)),
    );
    if (found !== 'unknown') {
      if (found === 'absent' || found.doc === null) {
        throw notFound(LISTING_NOT_FOUND, `no listing '${id}'`, { id }, reached, 'memcached');
      }
      return answer(found.doc, reached, 'memcached');
    }
    this.metrics.cardFallbacks.inc({ reason });
    const fallback = await this.reach('detail', begun);
    const detail = await this.lookup(fallback, () =>
      this.sinks.sink('detail', fallback.version).read(this.partitionOf(id), id),
    );
    const doc = this.knownDocument(detail, fallback);
    if (!doc) throw notFound(LISTING_NOT_FOUND, `no listing '${id}'`, { id }, fallback, 'postgres-fallback');
    return answer(cardFromDetail(doc), fallback, 'postgres-fallback');
  }

  async sellerStats(sellerId: string, request: ReadRequest): Promise<ReadAnswer<SellerStats>> {
    validateId(sellerId, 'seller id');
    const begun = await this.begin(request);
    const reached = await this.reach('sellerStats', begun);
    const sink = this.sinks.sink('sellerStats', reached.version);
    // Every partition may hold a sub-document of the seller (their listings are spread over partitions).
    const readAll = (from: typeof sink) =>
      Promise.all(
        Array.from({ length: this.options.partitions }, (_, partition) => from.read(partition, sellerId)),
      );
    const lookups = await this.lookup(reached, () => readAll(sink));
    const parts: SellerStats[] = [];
    for (const found of lookups) {
      const doc = this.knownDocument(found, reached);
      if (doc) parts.push(doc);
    }
    this.shadowRead(reached, sellerId, statsSnapshot(lookups), async (v) =>
      statsSnapshot(await readAll(this.sinks.sink('sellerStats', v))),
    );
    if (parts.length === 0) {
      throw notFound(SELLER_NOT_FOUND, `no listings of seller '${sellerId}'`, { sellerId }, reached);
    }
    return answer(mergeSellerStats(parts), reached, 'redis');
  }

  /**
   * A search of the listing search view (Elasticsearch): the same token semantics as the other reads, and the
   * search runs only once the view covers the token (its sink refreshes before the watermark is published).
   */
  async search(params: ListingSearchParams, request: ReadRequest): Promise<ReadAnswer<ListingSearchResult>> {
    if (!this.sinks.hasSearch) {
      throw new QueryError(VIEW_UNAVAILABLE, 'the listing search view is not configured', 503, true, {
        view: SEARCH_PROJECTION,
      });
    }
    const begun = await this.begin(request);
    const reached = await this.reach('search', begun);
    const result = await this.lookup(reached, () => this.sinks.search(reached.version).search(params));
    this.shadowRead(reached, JSON.stringify(params), searchSnapshot(result), async (v) =>
      searchSnapshot(await this.sinks.search(v).search(params)),
    );
    return answer(result, reached, 'elasticsearch');
  }

  /** Decodes the token, checks its partitions, and fixes the deadline of the whole read. */
  private async begin(request: ReadRequest): Promise<Begun> {
    const identity = await this.topicIdentity();
    const text = request.token?.trim();
    const token = text ? decodeToken(text, identity) : EMPTY_TOKEN(identity);
    this.checkPartitions(token);
    const bound = Math.min(request.waitMs ?? this.options.waitTimeoutMs, this.options.waitTimeoutMs);
    return { token, deadline: Date.now() + bound, request, logChecked: request.stale === true };
  }

  private topicIdentity(): Promise<string> {
    if (!this.identity) {
      const pending = this.options.topicIdentity();
      this.identity = pending;
      // A failed lookup is retried by the next read rather than cached.
      pending.catch(() => {
        if (this.identity === pending) this.identity = undefined;
      });
    }
    return this.identity.catch((error: unknown) => {
      this.logger.warn({ err: error }, 'the events topic identity is not available');
      throw new QueryError(
        TOPIC_IDENTITY_UNAVAILABLE,
        'the events topic identity is not known yet',
        503,
        true,
      );
    });
  }

  /**
   * A token past the end of the log can never be covered: 400 rather than a wait. Only offsets above both the
   * view's watermark and the highest log end seen need a look at the log.
   */
  private checkPartitions(token: ConsistencyToken): void {
    for (const partition of token.positions.keys()) {
      if (partition >= this.options.partitions) {
        throw new QueryError(
          TOKEN_AHEAD_OF_LOG,
          `consistency token names partition ${partition}; the events topic has ${this.options.partitions}`,
          400,
          false,
          { partition, partitions: this.options.partitions },
        );
      }
    }
  }

  private async checkAgainstLog(token: ConsistencyToken, projection: string, version: number): Promise<void> {
    const watermark = this.tracker.watermark(projection, version);
    const unknown: [number, number][] = [];
    for (const [partition, offset] of token.positions) {
      if (offset <= (watermark.get(partition) ?? 0) || offset <= (this.knownLogEnds.get(partition) ?? 0))
        continue;
      unknown.push([partition, offset]);
    }
    await Promise.all(
      unknown.map(async ([partition, offset]) => {
        let end: number;
        try {
          end = await this.options.logEnd(partition);
        } catch (error) {
          // Cannot tell: the bounded wait decides (a view cannot pass a log it cannot read either).
          this.logger.warn({ err: error, partition }, 'could not read the log end of an events partition');
          return;
        }
        if (end > (this.knownLogEnds.get(partition) ?? 0)) this.knownLogEnds.set(partition, end);
        if (offset > end) {
          throw new QueryError(
            TOKEN_AHEAD_OF_LOG,
            `consistency token is past the end of the log on partition ${partition}`,
            400,
            false,
            { partition, offset, logEnd: end },
          );
        }
      }),
    );
  }

  /**
   * Picks the version (the active one, or the candidate for a split read) and waits (unless stale=ok) until it
   * covers the token.
   */
  private async reach(view: ReadView, begun: Begun): Promise<Reached> {
    const projection = projectionOf(view);
    const { token, request } = begun;
    if (this.tracker.activeVersion(projection) === null) await this.tracker.refresh();
    const candidate = this.splitCandidate(projection);
    for (;;) {
      // The active version is read again after each wait: a switch in between only moves to one that covers.
      const version = candidate ?? this.tracker.activeVersion(projection);
      if (version === null) {
        throw new QueryError(
          VIEW_UNAVAILABLE,
          `the ${projection} view has no active version yet`,
          503,
          true,
          {
            view: projection,
          },
        );
      }
      const watermark = this.tracker.watermark(projection, version);
      const covered = covers(watermark, token);
      if (covered || request.stale) {
        if (!covered) this.metrics.staleReads.inc({ view: projection });
        const merged = mergeTokens(tokenFromPositions(token.topicIdentity, watermark), token);
        return {
          view,
          projection,
          version,
          role: candidate === null ? 'active' : 'candidate',
          stale: !covered,
          merged,
          token: encodeToken(merged),
        };
      }
      const fixed = candidate ?? undefined;
      if (!begun.logChecked) {
        begun.logChecked = true;
        const early = Math.min(begun.deadline, Date.now() + LOG_CHECK_AFTER_MS);
        const coveredEarly = await this.tracker
          .waitFor(projection, token, Math.max(0, early - Date.now()), request.signal, fixed)
          .then(
            () => true,
            (error: unknown) => {
              if (error instanceof TidemarkError && error.code === CONSISTENCY_TIMEOUT) return false;
              throw error;
            },
          );
        if (coveredEarly) continue;
        await this.checkAgainstLog(token, projection, version);
      }
      await this.wait(projection, token, begun.deadline, request.signal, fixed);
    }
  }

  /** Split mode: the candidate version for `percent`% of reads (drawn per read), else null (the active one). */
  private splitCandidate(projection: string): number | null {
    const candidate = this.tracker.candidate(projection);
    if (candidate?.mode !== 'split' || candidate.percent <= 0) return null;
    if (this.options.random() * 100 >= candidate.percent) return null;
    this.metrics.candidateReads.inc({ projection });
    return candidate.version;
  }

  /** Shadow mode: compares the active version's answer with the candidate's, after the response (shadow.ts). */
  private shadowRead(
    reached: Reached,
    key: string,
    answer: ShadowSnapshot,
    read: (version: number) => Promise<ShadowSnapshot>,
  ): void {
    // A stale answer is not at its token, and a split read already is the candidate's.
    if (reached.stale || reached.role !== 'active') return;
    const candidate = this.tracker.candidate(reached.projection);
    if (candidate?.mode !== 'shadow' || candidate.version === reached.version) return;
    this.shadow.compare({
      projection: reached.projection,
      key,
      active: reached.version,
      candidate: candidate.version,
      token: reached.merged,
      answer,
      read,
    });
  }

  private async wait(
    projection: string,
    token: ConsistencyToken,
    deadline: number,
    signal: AbortSignal | undefined,
    version: number | undefined,
  ): Promise<void> {
    const started = process.hrtime.bigint();
    let outcome = 'covered';
    this.metrics.waiting.inc();
    try {
      await this.tracker.waitFor(projection, token, Math.max(0, deadline - Date.now()), signal, version);
    } catch (error) {
      const code = error instanceof TidemarkError ? error.code : 'error';
      outcome = code === CONSISTENCY_TIMEOUT ? 'timeout' : code === REQUEST_ABORTED ? 'aborted' : 'error';
      if (outcome === 'timeout') this.metrics.timeouts.inc({ view: projection });
      throw error;
    } finally {
      this.metrics.waiting.dec();
      this.metrics.waitSeconds.observe(
        { view: projection, outcome },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  }

  /** A store that fails answers 503 (retryable), not 500. */
  private async lookup<T>(reached: Reached, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof TidemarkError) throw error;
      this.logger.warn({ err: error, view: reached.projection }, 'view read failed');
      throw new QueryError(VIEW_UNAVAILABLE, `the ${reached.projection} view cannot be read now`, 503, true, {
        view: reached.projection,
      });
    }
  }

  /** The document, or null for absent/tombstone; 'unknown' from a store of record is a 503, never a 404. */
  private knownDocument<D extends ProjectionDocument>(found: Lookup<D>, reached: Reached): D | null {
    if (found === 'absent') return null;
    if (found === 'unknown') {
      throw new QueryError(
        VIEW_UNAVAILABLE,
        `the ${reached.projection} view does not know this key`,
        503,
        true,
        {
          view: reached.projection,
        },
      );
    }
    return (found as StoredDocument<D>).doc;
  }

  private partitionOf(id: string): number {
    return partitionForKey(id, this.options.partitions);
  }
}

function answer<D>(data: D, reached: Reached, source: ReadSource): ReadAnswer<D> {
  return {
    data,
    token: reached.token,
    stale: reached.stale,
    source,
    view: `${reached.projection}.v${reached.version}`,
    version: reached.version,
  };
}

/** Headers an answer (or a 404) carries. */
export function answerHeaders(
  answer: Pick<ReadAnswer<unknown>, 'token' | 'stale' | 'source' | 'view' | 'version'>,
) {
  return {
    'Consistency-Token': answer.token,
    ...(answer.stale ? { 'Consistency-Stale': 'true' } : {}),
    'Consistency-Version': String(answer.version),
    'X-Tidemark-Source': answer.source,
    'X-Tidemark-View': answer.view,
    'Cache-Control': 'no-store',
  };
}

/** One key's lookup in one partition, for a shadow comparison. */
function keyedSnapshot(partition: number, found: Lookup<ProjectionDocument>): ShadowSnapshot {
  if (found === 'unknown') return { value: null, unknown: true };
  if (found === 'absent') return { value: null, positions: new Map([[partition, 0]]) };
  return { value: found.doc, positions: new Map([[partition, found.position]]) };
}

/** A seller's sub-documents over every partition, merged as the read merges them. */
function statsSnapshot(lookups: readonly Lookup<SellerStats>[]): ShadowSnapshot {
  const positions = new Map<number, number>();
  const parts: SellerStats[] = [];
  for (const [partition, found] of lookups.entries()) {
    if (found === 'unknown') return { value: null, unknown: true };
    if (found === 'absent') {
      positions.set(partition, 0);
      continue;
    }
    positions.set(partition, found.position);
    if (found.doc) parts.push(found.doc);
  }
  return { value: parts.length > 0 ? mergeSellerStats(parts) : null, positions };
}

/** A search answer: the ordered hit ids and the total (scores and facets may differ between index versions). */
function searchSnapshot(result: ListingSearchResult): ShadowSnapshot {
  return { value: { total: result.total, ids: result.hits.map((hit) => hit.id) } };
}

const SOURCES: Record<ReadView, ReadSource> = {
  detail: 'postgres',
  sellerStats: 'redis',
  cards: 'memcached',
  search: 'elasticsearch',
};

function notFound(
  code: string,
  message: string,
  details: Record<string, unknown>,
  reached: Reached,
  source: ReadSource = SOURCES[reached.view],
): QueryError {
  return new QueryError(
    code,
    message,
    404,
    false,
    { ...details, ...(reached.stale ? { stale: true } : {}) },
    answerHeaders({
      token: reached.token,
      stale: reached.stale,
      source,
      view: `${reached.projection}.v${reached.version}`,
      version: reached.version,
    }),
  );
}

export function validateId(id: string, what: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (id.length === 0 || id.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(id)) {
    throw new QueryError(
      INVALID_ID,
      `${what} must be 1 to ${MAX_ID_LENGTH} characters without control characters`,
      400,
      false,
      {
        maxLength: MAX_ID_LENGTH,
      },
    );
  }
}
