/**
 * Opening a projection version's sink in its store, and the watermark bus beside them. Kept apart from
 * read-path.ts (which pulls in the query API and NestJS) so that one-shot commands such as `tidemark diff` start
 * quickly.
 */
import { createElasticsearchSink } from '@tidemark/projection-elasticsearch';
import { createMemcachedSink } from '@tidemark/projection-memcached';
import { createPostgresSink } from '@tidemark/projection-postgres';
import { createRedisSink } from '@tidemark/projection-redis';
import type { ProjectionDefinition, Sink, StoreKind, WatermarkBus } from '@tidemark/projection-runtime';
import { createPostgresWatermarkBus } from '@tidemark/projection-runtime';
import type { Logger } from 'pino';

/** Where the view stores are. */
export interface StoreEndpoints {
  postgres: string;
  redis?: string;
  memcached?: string;
  /** Elasticsearch (or the embedded search server) URL, for search views. */
  elasticsearch?: string;
}

/**
 * Opens the sink of a projection version in its store. `logger` receives what a sink reports of its own
 * (e.g. an activation moving the store's alias).
 */
export function openSink(
  definition: ProjectionDefinition,
  stores: StoreEndpoints,
  partitions: number,
  logger?: Logger,
): Sink {
  const store: StoreKind = definition.store;
  switch (store) {
    case 'postgres':
      // The watermark bus is Postgres LISTEN/NOTIFY on this same database: the commit itself notifies.
      return createPostgresSink(definition, { connectionString: stores.postgres, publishWatermarks: true });
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
      return createElasticsearchSink(definition, {
        node: stores.elasticsearch,
        partitions,
        ...(logger ? { logger } : {}),
      });
  }
}

/** The bus on which projectors announce watermarks (Postgres LISTEN/NOTIFY on the control database). */
export function openWatermarkBus(stores: StoreEndpoints, logger: Logger): WatermarkBus {
  return createPostgresWatermarkBus({ connectionString: stores.postgres, logger });
}
