/**
 * An in-memory listings world for tests: an events log per partition, the three views as memory sinks (per
 * version), a control table and a bus. `project(view)` folds the log into a view and announces the watermark,
 * as a projector would; views lag until told to catch up.
 */
import { partitionForKey } from '@tidemark/kafka';
import type { ListingCard, ListingDetail, SellerStats } from '@tidemark/listings-projections';
import {
  LISTING_CARD_PROJECTION,
  LISTING_DETAIL_PROJECTION,
  listingProjections,
  SELLER_STATS_PROJECTION,
} from '@tidemark/listings-projections';
import type { ProjectionDefinition, ProjectionDocument } from '@tidemark/projection-runtime';
import type { EventEnvelope } from '@tidemark/schemas';
import type { QueryViews, ViewKind } from '../../src';
import { MemoryBus, MemoryControl, MemorySink } from './fakes';

export const IDENTITY = '0123456789abcdef';
export const PARTITIONS = 3;
const NAMES: Record<ViewKind, string> = {
  detail: LISTING_DETAIL_PROJECTION,
  sellerStats: SELLER_STATS_PROJECTION,
  cards: LISTING_CARD_PROJECTION,
};

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
  /** Per view and version: how far each partition has been projected. */
  private readonly applied = new Map<string, Map<number, number>>();
  private readonly versions = new Map<number, ReturnType<typeof listingProjections>>();

  sink(view: ViewKind, version: number): MemorySink {
    const id = `${view}.v${version}`;
    let sink = this.sinks.get(id);
    if (!sink) {
      sink = new MemorySink(view === 'detail' ? 'postgres' : view === 'cards' ? 'memcached' : 'redis');
      this.sinks.set(id, sink);
    }
    return sink;
  }

  views(): QueryViews {
    return {
      detail: (v) => this.sink('detail', v) as unknown as MemorySink<ListingDetail>,
      sellerStats: (v) => this.sink('sellerStats', v) as unknown as MemorySink<SellerStats>,
      cards: (v) => this.sink('cards', v) as unknown as MemorySink<ListingCard>,
    };
  }

  async register(version = 1): Promise<void> {
    for (const view of Object.keys(NAMES) as ViewKind[]) {
      await this.control.register({
        context: 'listings',
        name: NAMES[view],
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
    const definition = this.definition(view, version) as ProjectionDefinition<ProjectionDocument>;
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
        { context: 'listings', projection: NAMES[view], version, partition, offset: log.length },
      ]);
    }
  }

  async projectAll(version = 1): Promise<void> {
    for (const view of Object.keys(NAMES) as ViewKind[]) await this.project(view, version);
  }

  private definition(view: ViewKind, version: number) {
    let set = this.versions.get(version);
    if (!set) {
      set = listingProjections({ version });
      this.versions.set(version, set);
    }
    return view === 'detail' ? set.detail : view === 'cards' ? set.card : set.sellerStats;
  }
}
