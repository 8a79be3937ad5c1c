/**
 * An in-memory listings world for tests: an events log per partition, the three document views as memory sinks
 * (per version), a control table and a bus, and the listings context as the query API serves it (`context()`:
 * the listings query definitions over these sinks). `project(view)` folds the log into a view and announces the
 * watermark, as a projector would; views lag until told to catch up.
 */
import { partitionForKey } from '@tidemark/kafka';
import {
  createListingSearchProjection,
  LISTING_CARD_PROJECTION,
  LISTING_DETAIL_PROJECTION,
  LISTING_SEARCH_PROJECTION,
  listingProjections,
  listingQueries,
  SELLER_STATS_PROJECTION,
} from '@tidemark/listings-projections';
import type { EventEnvelope } from '@tidemark/schemas';
import type { NamedQuery, ProjectionDefinition } from '@tidemark/sdk';
import type { QueryContext } from '../../src';
import { MemoryBus, MemoryControl, MemorySink } from './fakes';

export const IDENTITY = '0123456789abcdef';
export const PARTITIONS = 3;
export const CONTEXT = 'listings';

/** The listings document views, by the short names tests use. */
export type ViewKind = 'detail' | 'sellerStats' | 'cards';
export const VIEW_NAMES: Record<ViewKind, string> = {
  detail: LISTING_DETAIL_PROJECTION,
  sellerStats: SELLER_STATS_PROJECTION,
  cards: LISTING_CARD_PROJECTION,
};
const KINDS = Object.keys(VIEW_NAMES) as ViewKind[];

/** A listings query by name (listing, card, sellerStats, search). */
export function listingQuery(name: string): NamedQuery {
  const query = listingQueries.list.find((q) => q.name === name);
  if (!query) throw new Error(`no listings query '${name}'`);
  return query;
}

/** A listings projection at a version, as the deployment's code defines it. */
export function listingDefinition(projection: string, version: number): ProjectionDefinition {
  const set = listingProjections({ version });
  switch (projection) {
    case LISTING_DETAIL_PROJECTION:
      return set.detail;
    case SELLER_STATS_PROJECTION:
      return set.sellerStats;
    case LISTING_CARD_PROJECTION:
      return set.card;
    case LISTING_SEARCH_PROJECTION:
      return createListingSearchProjection({ version });
    default:
      throw new Error(`listings has no projection '${projection}'`);
  }
}

let sequence = 0;

export function envelope(
  aggregateId: string,
  version: number,
  type: string,
  payload: unknown,
): EventEnvelope {
  sequence++;
  return {
    id: `01890000-0000-7000-8000-${String(sequence).padStart(12, '0')}`,
    type,
    schemaVersion: type === 'ListingPublished' ? 2 : 1,
    aggregate: { type: 'listing', id: aggregateId },
    version,
    commandId: `c-${sequence}`,
    correlationId: `c-${sequence}`,
    causationId: `c-${sequence}`,
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, sequence)).toISOString(),
    payload,
  };
}

export const publishedPayload = (sellerId: string, priceCents = 1000) => ({
  sellerId,
  title: 'Blue bicycle',
  description: 'Barely used',
  category: 'bikes',
  priceCents,
  currency: 'EUR',
  location: { country: 'NL', city: 'Utrecht' },
});

export class ListingsWorld {
  readonly bus = new MemoryBus();
  readonly control = new MemoryControl();
  readonly log: EventEnvelope[][] = Array.from({ length: PARTITIONS }, () => []);
  readonly sinks = new Map<string, MemorySink>();
  /** The (projection, version) sinks the query API asked for, in order. */
  readonly opened: string[] = [];
  /** Per view and version: how far each partition has been projected. */
  private readonly applied = new Map<string, Map<number, number>>();

  sink(view: ViewKind, version: number): MemorySink {
    const id = `${view}.v${version}`;
    let sink = this.sinks.get(id);
    if (!sink) {
      sink = new MemorySink(view === 'detail' ? 'postgres' : view === 'cards' ? 'memcached' : 'redis');
      this.sinks.set(id, sink);
    }
    return sink;
  }

  /**
   * The listings context over this world's sinks, as the query API takes it: the listings query definitions,
   * the sink of a projection version by name, the topic identity and the log end. `extra` overrides any part
   * (e.g. a search view).
   */
  context(extra: Partial<QueryContext> = {}): QueryContext {
    return {
      name: CONTEXT,
      partitions: PARTITIONS,
      topicIdentity: IDENTITY,
      logEnd: this.logEnd,
      queries: listingQueries.list,
      definition: listingDefinition,
      sink: (projection, version) => {
        this.opened.push(`${projection}.v${version}`);
        return this.sink(this.kindOf(projection), version);
      },
      ...extra,
    };
  }

  async register(version = 1): Promise<void> {
    for (const view of KINDS) {
      await this.control.register({
        context: CONTEXT,
        name: VIEW_NAMES[view],
        version,
        store: this.sink(view, version).store,
      });
    }
  }

  /** Appends events to the log (their aggregate's partition); returns the token just past them. */
  append(...events: EventEnvelope[]): Record<number, number> {
    const token: Record<number, number> = {};
    for (const event of events) {
      const partition = partitionForKey(event.aggregate.id, PARTITIONS);
      const log = this.log[partition] as EventEnvelope[];
      log.push(event);
      token[partition] = log.length;
    }
    return token;
  }

  logEnd = async (partition: number): Promise<number> => this.log[partition]?.length ?? 0;

  /** Folds the log into a view version up to the log end and publishes the watermarks. */
  async project(view: ViewKind, version = 1): Promise<void> {
    const definition = listingDefinition(VIEW_NAMES[view], version);
    const sink = this.sink(view, version);
    const id = `${view}.v${version}`;
    const applied = this.applied.get(id) ?? new Map<number, number>();
    this.applied.set(id, applied);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const log = this.log[partition] as EventEnvelope[];
      const from = applied.get(partition) ?? 0;
      if (from >= log.length) continue;
      for (let offset = from; offset < log.length; offset++) {
        const event = log[offset] as EventEnvelope;
        if (!definition.eventTypes.includes(event.type)) continue;
        for (const key of definition.keys(event)) {
          const found = (await sink.load(partition, [key])).get(key);
          const current = found && typeof found === 'object' ? found.doc : null;
          const doc = definition.apply(current, event, key);
          await sink.commit(partition, [{ key, doc, position: offset + 1 }], offset + 1);
        }
      }
      await sink.commit(partition, [], log.length);
      applied.set(partition, log.length);
      await this.bus.publish([
        { context: CONTEXT, projection: VIEW_NAMES[view], version, partition, offset: log.length },
      ]);
    }
  }

  async projectAll(version = 1): Promise<void> {
    for (const view of KINDS) await this.project(view, version);
  }

  private kindOf(projection: string): ViewKind {
    const kind = KINDS.find((k) => VIEW_NAMES[k] === projection);
    if (!kind) throw new Error(`the in-memory listings world has no sink for '${projection}'`);
    return kind;
  }
}
