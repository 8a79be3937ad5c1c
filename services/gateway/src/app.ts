import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MAX_PARAM_LENGTH, observeRequests, PinoNestLogger } from '@tidemark/http';
import { GatewayModule } from './gateway.module';
import { createGatewayLogger } from './logger';
import { GatewayMetrics } from './metrics';
import type { GatewayOptions } from './options';
import { resolveOptions } from './options';

/**
 * Builds the gateway application (not listening yet). The transport stays the caller's: closing the app does not
 * close it.
 *
 * On Fastify rather than express: the gateway is on the path of every command, and Nest on express spent about
 * four times the CPU per request (test/bench/write-path.bench.ts, BENCHMARKS.md).
 */
export async function createGatewayApp(options: GatewayOptions): Promise<INestApplication> {
  const logger = options.logger ?? createGatewayLogger();
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRootAsync({ useFactory: () => ({ ...options, logger }) }),
    new FastifyAdapter({
      bodyLimit: resolveOptions(options).maxBodyBytes,
      forceCloseConnections: true,
      maxParamLength: MAX_PARAM_LENGTH,
      // Our own request observer logs each request; Fastify's logger stays off.
      logger: false,
    }),
    {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
    },
  );
  // An onRequest hook runs before body parsing and for unmatched routes: every request is counted and logged.
  const metrics = app.get(GatewayMetrics);
  observeRequests(app, { logger, observe: (labels) => metrics.requests.inc(labels) });
  return app;
}

export interface RunningGateway {
  url: string;
  app: INestApplication;
  close(): Promise<void>;
}

/** Builds the gateway and listens on host:port (port 0: a free one). */
export async function startGateway(
  options: GatewayOptions & { host: string; port: number },
): Promise<RunningGateway> {
  const { host, port, ...gatewayOptions } = options;
  const app = await createGatewayApp(gatewayOptions);
  await app.listen(port, host);
  const address = app.getHttpServer().address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`;
  let closed = false;
  return {
    url,
    app,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}
