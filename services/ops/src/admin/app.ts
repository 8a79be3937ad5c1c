import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ExpressAdapter } from '@nestjs/platform-express';
import { observeRequests, PinoNestLogger } from '@tidemark/http';
import { createLogger } from '@tidemark/observability';
import { AdminModule } from './admin.module';
import { AdminMetrics } from './metrics';
import type { AdminOptions } from './options';

/** Request bodies are small JSON objects. */
const MAX_BODY_BYTES = 64 * 1024;

/** Builds the admin application (not listening yet). The ProjectionOps stays the caller's. */
export async function createAdminApp(options: AdminOptions): Promise<INestApplication> {
  const logger = options.logger ?? createLogger('tidemark.admin');
  const app = await NestFactory.create<NestExpressApplication>(
    AdminModule.forRootAsync({ useFactory: () => ({ ...options, logger }) }),
    new ExpressAdapter(),
    {
      bodyParser: false,
      logger: new PinoNestLogger(logger),
      abortOnError: false,
      forceCloseConnections: true,
    },
  );
  app.disable('x-powered-by');
  // Before the body parser, so that requests it refuses are counted and logged too.
  const metrics = app.get(AdminMetrics);
  observeRequests(app, {
    logger,
    observe: (labels, seconds) => metrics.requestSeconds.observe(labels, seconds),
    level: (request) => (request.method === 'GET' ? 'debug' : 'info'),
  });
  app.useBodyParser('json', { limit: MAX_BODY_BYTES });
  return app;
}

export interface RunningAdminApi {
  url: string;
  app: INestApplication;
  /** Stops running replays (they stay building, resumable) and closes the server. */
  close(): Promise<void>;
}

/** Builds the admin API and listens on host:port (port 0: a free one). */
export async function startAdminApi(
  options: AdminOptions & { host: string; port: number },
): Promise<RunningAdminApi> {
  const { host, port, ...adminOptions } = options;
  const app = await createAdminApp(adminOptions);
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
