/**
 * The Emmett side of the read-path benchmark: the same listings events in Emmett's PostgreSQL event store, and
 * Emmett's async (not inline) projector building a listing detail view from them.
 *
 * Emmett 0.42's async projections run in a consumer (postgreSQLEventStoreConsumer) that pulls batches of
 * messages from emt_messages by global position (pulling.batchSize, then a pause of pullingFrequencyInMs
 * between full batches) and hands each batch to its processors; a projector (consumer.projector) opens one
 * transaction per batch and, inside it, calls the projection once per event and stores its checkpoint after
 * every event. Two projections are measured:
 *  - 'pongo': pongoSingleStreamProjection, Emmett's document-per-stream view (the same model as Tidemark's
 *    detail view: load the document, evolve it, write it back); per event a findOne and an insert/replace.
 *  - 'sql': postgreSQLProjection whose handler writes one upsert/merge statement per event on the batch's
 *    transaction (the raw-SQL style of postgreSQLRawSQLProjection, without reading the document first).
 */
import type { Event, ReadEvent } from '@event-driven-io/emmett';
import { STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import {
  getPostgreSQLEventStore,
  type PostgreSQLProjectionDefinition,
  pongoSingleStreamProjection,
  postgreSQLEventStoreConsumer,
  postgreSQLProjection,
} from '@event-driven-io/emmett-postgresql';
import pg from 'pg';

/** One listings event as the benchmark generates it (type and payload as in the Tidemark envelope). */
export interface BenchEvent {
  type: string;
  payload: Record<string, unknown>;
}

export type EmmettProjectionKind = 'pongo' | 'sql';

type ListingEmmettEvent = Event<string, Record<string, unknown>>;

interface EmmettListingDetail {
  listingId: string;
  sellerId: string;
  title: string;
  description: string;
  category: string;
  priceCents: number;
  currency: string;
  location: unknown;
  status: string;
  soldPriceCents?: number;
  version: number;
  [key: string]: unknown;
}

export const EMMETT_EVENT_TYPES = [
  'ListingPublished',
  'PriceChanged',
  'DetailsUpdated',
  'ListingWithdrawn',
  'ListingSold',
];

export const streamName = (aggregateId: string) => `listing-${aggregateId}`;

/** Appends every aggregate's events as one appendToStream each, `concurrency` at a time (loading, not timed). */
export async function loadEmmettStore(
  connectionString: string,
  aggregates:
    | AsyncIterable<{ aggregateId: string; events: BenchEvent[] }>
    | Iterable<{ aggregateId: string; events: BenchEvent[] }>,
  options: { concurrency: number; onProgress?: (events: number) => void },
): Promise<number> {
  const eventStore = getPostgreSQLEventStore(connectionString);
  let appended = 0;
  const inFlight = new Set<Promise<void>>();
  try {
    for await (const { aggregateId, events } of aggregates) {
      const append = eventStore
        .appendToStream(
          streamName(aggregateId),
          events.map((e) => ({ type: e.type, data: e.payload })),
          { expectedStreamVersion: STREAM_DOES_NOT_EXIST },
        )
        .then(() => {
          appended += events.length;
          options.onProgress?.(appended);
        });
      const tracked = append.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await eventStore.close();
  }
  return appended;
}

function evolveDetail(
  document: EmmettListingDetail | null,
  event: ReadEvent<ListingEmmettEvent>,
): EmmettListingDetail | null {
  const data = event.data;
  const version = Number(event.metadata.streamPosition);
  switch (event.type) {
    case 'ListingPublished':
      return {
        listingId: event.metadata.streamName,
        sellerId: data.sellerId as string,
        title: data.title as string,
        description: data.description as string,
        category: data.category as string,
        priceCents: data.priceCents as number,
        currency: data.currency as string,
        location: data.location,
        status: 'active',
        version,
      };
    case 'PriceChanged':
      return document && { ...document, priceCents: data.priceCents as number, version };
    case 'DetailsUpdated':
      return document && { ...document, ...data, version };
    case 'ListingWithdrawn':
      return document && { ...document, status: 'withdrawn', version };
    case 'ListingSold':
      return document && { ...document, status: 'sold', soldPriceCents: data.priceCents as number, version };
    default:
      return document;
  }
}

/** The jsonb patch the SQL projection merges into the row for each event. */
function sqlPatch(event: ReadEvent<ListingEmmettEvent>): Record<string, unknown> {
  const data = event.data;
  switch (event.type) {
    case 'PriceChanged':
      return { priceCents: data.priceCents };
    case 'DetailsUpdated':
      return data;
    case 'ListingWithdrawn':
      return { status: 'withdrawn' };
    case 'ListingSold':
      return { status: 'sold', soldPriceCents: data.priceCents };
    default:
      return {};
  }
}

export const EMMETT_SQL_TABLE = 'emmett_listing_detail_sql';
export const EMMETT_PONGO_COLLECTION = 'emmett_listing_detail';

function projectionOf(kind: EmmettProjectionKind): PostgreSQLProjectionDefinition<ListingEmmettEvent> {
  if (kind === 'pongo') {
    return pongoSingleStreamProjection<EmmettListingDetail, ListingEmmettEvent>({
      collectionName: EMMETT_PONGO_COLLECTION,
      canHandle: EMMETT_EVENT_TYPES,
      evolve: evolveDetail,
    });
  }
  return postgreSQLProjection<ListingEmmettEvent>({
    name: EMMETT_SQL_TABLE,
    canHandle: EMMETT_EVENT_TYPES,
    handle: async (events, context) => {
      const client = context.connection.client as unknown as pg.PoolClient;
      for (const event of events) {
        const version = Number(event.metadata.streamPosition);
        if (event.type === 'ListingPublished') {
          await client.query(
            `insert into ${EMMETT_SQL_TABLE} (id, doc, version) values ($1, $2, $3)
             on conflict (id) do update set doc = excluded.doc, version = excluded.version`,
            [event.metadata.streamName, { ...event.data, status: 'active' }, version],
          );
        } else {
          await client.query(
            `update ${EMMETT_SQL_TABLE} set doc = doc || $2::jsonb, version = $3 where id = $1 and version < $3`,
            [event.metadata.streamName, sqlPatch(event), version],
          );
        }
      }
    },
  });
}

export interface EmmettCatchUp {
  events: number;
  seconds: number;
  documents: number;
}

/**
 * Runs Emmett's async projector from the beginning of the store until no messages are left and returns how long
 * that took. `stopAfterEvents` ends it earlier (a prefix of the store).
 */
export async function runEmmettProjector(
  connectionString: string,
  kind: EmmettProjectionKind,
  options: {
    batchSize: number;
    pullingFrequencyInMs: number;
    stopAfterEvents?: number;
    onProgress?: (events: number) => void;
  },
): Promise<EmmettCatchUp> {
  const pool = new pg.Pool({ connectionString, max: 2 });
  // An idle client whose server stops (the stack shuts Postgres down) emits 'error': not a crash.
  pool.on('error', () => undefined);
  try {
    if (kind === 'sql') {
      await pool.query(
        `create table if not exists ${EMMETT_SQL_TABLE} (id text primary key, doc jsonb not null, version int not null)`,
      );
    }
    let handled = 0;
    const consumer = postgreSQLEventStoreConsumer({
      connectionString,
      pulling: { batchSize: options.batchSize, pullingFrequencyInMs: options.pullingFrequencyInMs },
      stopWhen: { noMessagesLeft: true },
    });
    consumer.projector<ListingEmmettEvent>({
      processorId: `bench-${kind}-${Date.now()}`,
      projection: projectionOf(kind),
      startFrom: 'BEGINNING',
      stopAfter: () => {
        handled++;
        if (handled % 1000 === 0) options.onProgress?.(handled);
        return options.stopAfterEvents !== undefined && handled >= options.stopAfterEvents;
      },
    });
    const started = performance.now();
    await consumer.start();
    const seconds = (performance.now() - started) / 1000;
    await consumer.close();
    const documents =
      kind === 'sql'
        ? Number((await pool.query(`select count(*)::int as n from ${EMMETT_SQL_TABLE}`)).rows[0].n)
        : Number((await pool.query(`select count(*)::int as n from ${EMMETT_PONGO_COLLECTION}`)).rows[0].n);
    return { events: handled, seconds, documents };
  } finally {
    await pool.end();
  }
}
