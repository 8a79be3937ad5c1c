import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MAX_PARAM_LENGTH, observeRequests, PinoNestLogger } from '@tidemark/http';
import { QueryEngine } from './engine';
import { createQueryLogger } from './logger';
import { QueryMetrics } from './metrics';
import type { QueryOptions } from './options';
import { QueryModule } from './query.module';

/**
 * Builds the query application (not listening yet; the watermark tracker is started). The bus and the control
 * table stay the caller's; the sinks the views create are closed with the app.
 */
export async function createQueryApp(options: QueryOptions): Promise<INestApplication> {
  const logger = options.logger ?? createQueryLogger();
  // On Fastify, like the gateway: Nest on express spent about four times the CPU per request.
  const module = QueryModule.forRoot({ ...options, logger });
  const app = await NestFactory.create<NestFastifyApplication>(
    module,
    new FastifyAdapter({ forceCloseConnections: true, logger: false, maxParamLength: MAX_PARAM_LENGTH }),
    { bodyParser: false, logger: new PinoNestLogger(logger), abortOnError: false },
  );
  // Labelled with the route template Fastify matched (the queries' paths): no route table to keep.
  const metrics = app.get(QueryMetrics);
  observeRequests(app, {
    logger,
    observe: (labels, seconds) => metrics.requestSeconds.observe(labels, seconds),
  });
  await app.init();
  return app;
}

export interface RunningQueryApi {
  url: string;
  app: INestApplication;
  /** The consistent reads of each context: its watermark tracker and views (for tests and diagnostics). */
  engine: QueryEngine;
  close(): Promise<void>;
}

/** Builds the query API and listens on host:port (port 0: a free one). */
export async function startQueryApi(
  options: QueryOptions & { host: string; port: number },
): Promise<RunningQueryApi> {
  const { host, port, ...queryOptions } = options;
  const app = await createQueryApp(queryOptions);
  await app.listen(port, host);
  const address = app.getHttpServer().address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`;
  let closed = false;
  return {
    url,
    app,
    engine: app.get(QueryEngine),
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
