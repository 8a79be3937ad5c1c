/**
 * Consistent reads of one context's views (DESIGN: Positions and tokens): decode the request's token against the
 * context's events topic, refuse one past the end of the log, wait (bounded) until the view's version covers it,
 * read, and answer with that version's watermark merged into the request token. "Not found" only comes from a
 * view that covers the token; a store that does not know ('unknown') is never a 404.
 *
 * Which version answers (Versions and cutover): the active one, except during a gradual cutover in split mode,
 * where `percent`% of reads (drawn per read) go to the candidate with the same token semantics. In shadow mode
 * the active version answers and the same read is compared on the candidate afterwards (shadow.ts). Every
 * answer names the version in the Consistency-Version header.
 */
import { partitionForKey } from '@tidemark/kafka';
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
  REQUEST_ABORTED,
  TOKEN_AHEAD_OF_LOG,
  TOPIC_IDENTITY_UNAVAILABLE,
  VIEW_UNAVAILABLE,
} from './errors';
import type { QueryMetrics } from './metrics';
import type { ResolvedContext, ResolvedQueryOptions } from './options';
import type { ShadowReads, ShadowSnapshot } from './shadow';
import type { ContextViews } from './views';
import type { WatermarkTracker } from './watermark-tracker';

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

/** Where an answer came from (the X-Tidemark-Source header): a store, or `<store>-fallback`. */
export type ReadSource = string;

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

/** A view version that covers the read's token (or, stale=ok, the best there is). */
export interface Reached {
  projection: string;
  version: number;
  /** Whether the version is the active one or the candidate of a split cutover. */
  role: 'active' | 'candidate';
  token: string;
  /** The same token, decoded (shadow reads compare at it). */
  merged: ConsistencyToken;
  stale: boolean;
}

export interface Begun {
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

export class ContextReads {
  private identity: Promise<string> | undefined;
  /** Highest log end seen per partition: it only grows, so a token below it needs no round trip. */
  private readonly knownLogEnds = new Map<number, number>();

  constructor(
    readonly context: ResolvedContext,
    private readonly options: ResolvedQueryOptions,
    readonly tracker: WatermarkTracker,
    readonly views: ContextViews,
    private readonly metrics: QueryMetrics,
    readonly shadowReads: ShadowReads,
    private readonly logger: Logger,
  ) {}

  /** Decodes the token, checks its partitions, and fixes the deadline of the whole read. */
  async begin(request: ReadRequest): Promise<Begun> {
    const identity = await this.topicIdentity();
    const text = request.token?.trim();
    const token = text ? decodeToken(text, identity) : EMPTY_TOKEN(identity);
    this.checkPartitions(token);
    const bound = Math.min(request.waitMs ?? this.options.waitTimeoutMs, this.options.waitTimeoutMs);
    return { token, deadline: Date.now() + bound, request, logChecked: request.stale === true };
  }

  partitionOf(key: string): number {
    return partitionForKey(key, this.context.partitions);
  }

  private topicIdentity(): Promise<string> {
    if (!this.identity) {
      const pending = this.context.topicIdentity();
      this.identity = pending;
      // A failed lookup is retried by the next read rather than cached.
      pending.catch(() => {
        if (this.identity === pending) this.identity = undefined;
      });
    }
    return this.identity.catch((error: unknown) => {
      this.logger.warn(
        { err: error, context: this.context.name },
        'the events topic identity is not available',
      );
      throw new TidemarkError(
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
    const partitions = this.context.partitions;
    for (const partition of token.positions.keys()) {
      if (partition >= partitions) {
        throw new TidemarkError(
          TOKEN_AHEAD_OF_LOG,
          `consistency token names partition ${partition}; the events topic has ${partitions}`,
          400,
          false,
          { partition, partitions },
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
          end = await this.context.logEnd(partition);
        } catch (error) {
          // Cannot tell: the bounded wait decides (a view cannot pass a log it cannot read either).
          this.logger.warn({ err: error, partition }, 'could not read the log end of an events partition');
          return;
        }
        if (end > (this.knownLogEnds.get(partition) ?? 0)) this.knownLogEnds.set(partition, end);
        if (offset > end) {
          throw new TidemarkError(
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
  async reach(projection: string, begun: Begun): Promise<Reached> {
    const { token, request } = begun;
    if (this.tracker.activeVersion(projection) === null) await this.tracker.refresh();
    const candidate = this.splitCandidate(projection);
    for (;;) {
      // The active version is read again after each wait: a switch in between only moves to one that covers.
      const version = candidate ?? this.tracker.activeVersion(projection);
      if (version === null) {
        throw new TidemarkError(
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
  shadowRead(
    reached: Reached,
    key: string,
    answer: ShadowSnapshot,
    read: (version: number) => Promise<ShadowSnapshot>,
  ): void {
    // A stale answer is not at its token, and a split read already is the candidate's.
    if (reached.stale || reached.role !== 'active') return;
    const candidate = this.tracker.candidate(reached.projection);
    if (candidate?.mode !== 'shadow' || candidate.version === reached.version) return;
    this.shadowReads.compare({
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
  async lookup<T>(reached: Reached, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof TidemarkError) throw error;
      this.logger.warn({ err: error, view: reached.projection }, 'view read failed');
      throw new TidemarkError(
        VIEW_UNAVAILABLE,
        `the ${reached.projection} view cannot be read now`,
        503,
        true,
        {
          view: reached.projection,
        },
      );
    }
  }

  /** The document, or null for absent/tombstone; 'unknown' from a store of record is a 503, never a 404. */
  knownDocument<D extends ProjectionDocument>(found: Lookup<D>, reached: Reached): D | null {
    if (found === 'absent') return null;
    if (found === 'unknown') {
      throw new TidemarkError(
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
}

/** The answer of a read that reached a view. */
export function answer<D>(data: D, reached: Reached, source: ReadSource): ReadAnswer<D> {
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
): Record<string, string> {
  return {
    'Consistency-Token': answer.token,
    ...(answer.stale ? { 'Consistency-Stale': 'true' } : {}),
    'Consistency-Version': String(answer.version),
    'X-Tidemark-Source': answer.source,
    'X-Tidemark-View': answer.view,
    'Cache-Control': 'no-store',
  };
}

/** A 404 from a view that covers the token: it carries the view's token like an answer. */
export function notFound(
  code: string,
  message: string,
  details: Record<string, unknown>,
  reached: Reached,
  source: ReadSource,
): TidemarkError {
  return new TidemarkError(
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
