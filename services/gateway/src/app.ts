import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ExpressAdapter } from '@nestjs/platform-express';
import { GatewayModule } from './gateway.module';
import { requestObserver } from './http/request-observer';
import { createGatewayLogger, PinoNestLogger } from './logger';
import { GatewayMetrics } from './metrics';
import type { GatewayOptions } from './options';
import { DEFAULT_MAX_BODY_BYTES } from './options';

/**
 * Builds the gateway application (not listening yet). The transport stays the caller's: closing the app does not
 * close it.
 */
export async function createGatewayApp(options: GatewayOptions): Promise<INestApplication> {
  const logger = options.logger ?? createGatewayLogger();
  const app = await NestFactory.create<NestExpressApplication>(
    GatewayModule.forRootAsync({ useFactory: () => ({ ...options, logger }) }),
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
  app.use(requestObserver(app.get(GatewayMetrics), logger));
  app.useBodyParser('json', { limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES });
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
