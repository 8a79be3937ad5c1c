/**
 * The read path of one deployment: a projector per projection version (each its own consumer group), the
 * watermark bus and control table in Postgres, and the query API. `tidemark up` runs it in-process; `tidemark
 * projector` runs only the projectors (a separate process that operators, and the fault tests, can kill).
 */
import path from 'node:path';
import { awaitTopicIdentity, contextTopics, PartitionReader } from '@tidemark/kafka';
import type { ListingCard, ListingDetail, SellerStats } from '@tidemark/listings-projections';
import {
  LISTING_CARD_PROJECTION,
  LISTING_DETAIL_PROJECTION,
  SELLER_STATS_PROJECTION,
} from '@tidemark/listings-projections';
import { createElasticsearchSink } from '@tidemark/projection-elasticsearch';
import { createMemcachedSink } from '@tidemark/projection-memcached';
import { createPostgresSink } from '@tidemark/projection-postgres';
import { createRedisSink } from '@tidemark/projection-redis';
import type {
  ProjectionControl,
  ProjectionDefinition,
  ProjectionDocument,
  Sink,
  StoreKind,
  WatermarkBus,
} from '@tidemark/projection-runtime';
import {
  createPostgresProjectionControl,
  createPostgresWatermarkBus,
  Projector,
} from '@tidemark/projection-runtime';
import { createElasticsearchListingSearch, startQueryApi } from '@tidemark/query';
import type { EventRegistry } from '@tidemark/schemas';
import { spawnManaged } from '@tidemark/stack';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { contextByName, PROJECTIONS } from './contexts';

/** Where the view stores are. */
export interface StoreEndpoints {
  postgres: string;
  redis?: string;
  memcached?: string;
  /** Elasticsearch (or the embedded search server) URL, for search views. */
  elasticsearch?: string;
}

/** Opens the sink of a projection version in its store. */
export function openSink(definition: ProjectionDefinition, stores: StoreEndpoints, partitions: number): Sink {
  const store: StoreKind = definition.store;
  switch (store) {
    case 'postgres':
      return createPostgresSink(definition, { connectionString: stores.postgres });
    case 'redis':
      if (!stores.redis) throw new Error(`projection ${definition.name} needs Redis, which is not running`);
      return createRedisSink(definition, { url: stores.redis });
    case 'memcached':
      if (!stores.memcached)
        throw new Error(`projection ${definition.name} needs memcached, which is not running`);
      return createMemcachedSink(definition, { servers: stores.memcached, partitions });
    case 'elasticsearch':
      if (!stores.elasticsearch) {
        throw new Error(`projection ${definition.name} needs Elasticsearch, which is not running`);
      }
      return createElasticsearchSink(definition, { node: stores.elasticsearch, partitions });
  }
}

/** The projections of the given contexts, optionally only the named ones. */
export function selectProjections(contexts: string[], names?: string[]): ProjectionDefinition[] {
  const all = contexts.flatMap((context) => {
    contextByName(context);
    return PROJECTIONS[context] ?? [];
  });
  if (!names || names.length === 0) return all;
  const unknown = names.filter((name) => !all.some((p) => p.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown projection(s) ${unknown.join(', ')} (known: ${all.map((p) => p.name).join(', ')})`,
    );
  }
  return all.filter((p) => names.includes(p.name));
}

export interface ProjectorSetOptions {
  brokers: string[];
  stores: StoreEndpoints;
  partitions: number;
  projections: ProjectionDefinition[];
  logger: Logger;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  registry?: Registry;
}

/** Every projection's projector, sharing one bus and control table connection. */
export class ProjectorSet {
  private constructor(
    readonly projectors: Projector[],
    readonly registry: Registry,
    private readonly closers: (() => Promise<void>)[],
  ) {}

  static async start(options: ProjectorSetOptions): Promise<ProjectorSet> {
    const registry = options.registry ?? new Registry();
    const bus: WatermarkBus = createPostgresWatermarkBus({
      connectionString: options.stores.postgres,
      logger: options.logger,
    });
    const control: ProjectionControl = createPostgresProjectionControl({
      connectionString: options.stores.postgres,
      logger: options.logger,
    });
    const closers: (() => Promise<void>)[] = [() => bus.close(), () => control.close()];
    const projectors: Projector[] = [];
    try {
      for (const definition of options.projections) {
        const sink = openSink(definition, options.stores, options.partitions);
        closers.push(() => sink.close());
        const projector = await Projector.start({
          brokers: options.brokers,
          definition,
          sink,
          events: eventsOf(definition.context),
          bus,
          control,
          logger: options.logger.child({ projection: definition.name, version: definition.version }),
          metrics: registry,
          sessionTimeoutMs: options.sessionTimeoutMs,
          heartbeatIntervalMs: options.heartbeatIntervalMs,
        });
        projectors.push(projector);
      }
    } catch (error) {
      await stopAll(projectors, closers);
      throw error;
    }
    return new ProjectorSet(projectors, registry, closers);
  }

  async stop(): Promise<void> {
    await stopAll(this.projectors, this.closers);
  }
}

async function stopAll(projectors: Projector[], closers: (() => Promise<void>)[]): Promise<void> {
  await Promise.allSettled(projectors.map((p) => p.stop()));
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
}

function eventsOf(context: string): EventRegistry {
  return contextByName(context).events;
}

export interface QueryServiceOptions {
  brokers: string[];
  stores: StoreEndpoints;
  partitions: number;
  /** The context whose views the query API serves. */
  context: string;
  apiKeys: { id: string; secret: string; scopes: string[] }[];
  host: string;
  port: number;
  waitTimeoutMs?: number;
  logger: Logger;
}

/**
 * The query API with what it needs: the events topic's identity (tokens name it), the log end (a token past it is
 * bad input), the control table (which version reads go to), the watermark bus, and a sink per view version.
 */
export interface QueryService {
  url: string;
  close(): Promise<void>;
}

export async function startQueryService(options: QueryServiceOptions): Promise<QueryService> {
  const reader = PartitionReader.create(options.brokers);
  const topics = contextTopics(options.context);
  const closers: (() => Promise<void>)[] = [async () => reader.close()];
  try {
    const bus = createPostgresWatermarkBus({
      connectionString: options.stores.postgres,
      logger: options.logger,
    });
    closers.push(() => bus.close());
    const control = createPostgresProjectionControl({
      connectionString: options.stores.postgres,
      logger: options.logger,
    });
    closers.push(() => control.close());
    const projections = selectProjections([options.context]);
    const byName = (name: string) => {
      const found = projections.find((p) => p.name === name);
      if (!found) throw new Error(`projection ${name} is not defined`);
      return found;
    };
    // The query API asks for a view's sink by version (the control table names the active one).
    const sinkFor =
      <D>(name: string) =>
      (version: number) =>
        openSink({ ...byName(name), version }, options.stores, options.partitions) as unknown as Sink<
          D & ProjectionDocument
        >;
    const api = await startQueryApi({
      host: options.host,
      port: options.port,
      apiKeys: options.apiKeys,
      waitTimeoutMs: options.waitTimeoutMs,
      partitions: options.partitions,
      topicIdentity: () => awaitTopicIdentity(reader, topics.events),
      logEnd: (partition: number) => reader.endOffset(topics.events, partition),
      control,
      bus,
      views: {
        detail: sinkFor<ListingDetail>(LISTING_DETAIL_PROJECTION),
        sellerStats: sinkFor<SellerStats>(SELLER_STATS_PROJECTION),
        cards: sinkFor<ListingCard>(LISTING_CARD_PROJECTION),
        ...(options.stores.elasticsearch
          ? {
              search: (version: number) =>
                createElasticsearchListingSearch({
                  version,
                  node: options.stores.elasticsearch,
                  partitions: options.partitions,
                }),
            }
          : {}),
      },
      logger: options.logger,
    });
    return {
      url: api.url,
      async close() {
        await api.close();
        for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    throw error;
  }
}

export interface ProjectorChildOptions {
  brokers: string[];
  stores: StoreEndpoints;
  partitions: number;
  projections: string[];
  /** Prometheus port of the child: -1 disables, 0 picks one. */
  metricsPort: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  logger: Logger;
  startTimeoutMs?: number;
}

/** `tidemark projector` as a managed child process; resolves once it printed its ready line. */
export async function startProjectorChild(
  options: ProjectorChildOptions,
): Promise<{ metricsUrl: string | undefined; stop(): Promise<void> }> {
  const cli = path.resolve(__dirname, '../../bin/tidemark.js');
  const { stores } = options;
  const args = [
    cli,
    'projector',
    '--brokers',
    options.brokers.join(','),
    '--postgres',
    stores.postgres,
    ...(stores.redis ? ['--redis', stores.redis] : []),
    ...(stores.memcached ? ['--memcached', stores.memcached] : []),
    ...(stores.elasticsearch ? ['--elasticsearch', stores.elasticsearch] : []),
    '--partitions',
    String(options.partitions),
    '--projections',
    options.projections.join(','),
    `--metrics-port=${options.metricsPort}`,
    ...(options.sessionTimeoutMs ? ['--session-timeout-ms', String(options.sessionTimeoutMs)] : []),
    ...(options.heartbeatIntervalMs ? ['--heartbeat-interval-ms', String(options.heartbeatIntervalMs)] : []),
  ];
  let metricsUrl: string | undefined;
  let ready: (() => void) | undefined;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const child = spawnManaged({
    name: 'projector',
    command: process.execPath,
    args,
    logger: options.logger,
    stopSignal: 'SIGTERM',
    stopGraceMs: 15_000,
    // The projector writes JSON logs itself: pass them through.
    output: 'stderr',
    onStdoutLine: (line) => {
      // "projector ready <names>[ metrics <url>]"
      const match = /^projector ready \S+(?: metrics (\S+))?/.exec(line);
      if (match) {
        metricsUrl = match[1];
        ready?.();
      }
    },
  });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      isReady,
      child.exited.then((exit) => {
        throw new Error(`the projector process exited before it was ready (${JSON.stringify(exit)})`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the projector process was not ready within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    await child.stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  options.logger.info(
    { pid: child.pid, projections: options.projections, metricsUrl },
    'projector process ready',
  );
  return {
    metricsUrl,
    stop: async () => {
      await child.stop();
    },
  };
}
