/**
 * The whole local platform in one process tree: the infrastructure stack (infra/stack), one command processor
 * per context, and the command gateway. Used by `tidemark up` and by the end-to-end tests (ports 0).
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path, { join } from 'node:path';
import { serveMetrics } from '@tidemark/broker';
import type { RunningGateway } from '@tidemark/gateway';
import { KafkaCommandTransport, startGateway } from '@tidemark/gateway';
import { CommandProcessor } from '@tidemark/processor';
import type { Component, Stack, StackOptions } from '@tidemark/stack';
import { startStack, updateEndpointsFile } from '@tidemark/stack';
import type { Logger } from 'pino';
import type { AdminService } from './admin/service';
import { startAdminService } from './admin/service';
import { ProjectionCatalog } from './catalog';
import type { HostedDeployment } from './deployment';
import type { QueryService } from './read-path';
import { ProjectorSet, startProjectorChild, startQueryService } from './read-path';
import { startServiceChild } from './service-child';

export interface PlatformOptions {
  dataDir: string;
  logger: Logger;
  /** Infrastructure to start (default all four). */
  components?: Component[];
  ports?: StackOptions['ports'] & { gateway?: number; query?: number; admin?: number };
  metricsPort?: number | null;
  brokerMode?: StackOptions['brokerMode'];
  /** Refresh interval of the embedded search server (default 1000 ms; tests use less). */
  searchRefreshIntervalMs?: number;
  /** Partitions of every context's topics (default 8). */
  partitions?: number;
  /**
   * The contexts, projections and queries to host (the deployment module). Child processes load its module
   * again, so the child modes need a deployment loaded from a file.
   */
  deployment: HostedDeployment;
  /**
   * 'in-process' (default) or 'child': one `tidemark processor` process per context, as a deployment runs it, so
   * the processor and the gateway do not share an event loop.
   */
  processorMode?: 'in-process' | 'child';
  /** Processor settings (tests use short timeouts). */
  processor?: { sessionTimeoutMs?: number; heartbeatIntervalMs?: number; snapshotEveryEvents?: number };
  gateway?: {
    waitTimeoutMs?: number;
    maxInFlight?: number;
    maxBodyBytes?: number;
    /** Keys besides the development key. */
    apiKeys?: { id: string; secret: string; scopes: string[] }[];
  };
  /**
   * The read path (needs the postgres component): projectors for every projection of the contexts, and the
   * query API. Tests that run projectors as separate processes turn `projectors` off.
   */
  readPath?: {
    projectors?: boolean;
    /**
     * 'in-process' (default) or 'child': one `tidemark projector` process for every projection, as a deployment
     * runs them (docker-compose), so projectors and the query API do not share an event loop.
     */
    projectorMode?: 'in-process' | 'child';
    query?: boolean;
    queryPort?: number;
    waitTimeoutMs?: number;
    /** The admin API (operator actions over HTTP, scope `admin`); default on. */
    admin?: boolean;
  };
  /**
   * A projection catalog module (`--catalog`): projection versions beyond the deployment module's, which the
   * projectors run once they are live (and `tidemark replay` builds). Passed to a projector child process too.
   */
  catalogModule?: string;
  writeEndpoints?: boolean;
  handleSignals?: boolean;
  onComponentExit?: StackOptions['onComponentExit'];
}

export interface Platform {
  stack: Stack;
  gateway: RunningGateway;
  /** In-process processors (processorMode 'in-process'). */
  processors: CommandProcessor[];
  /** The /metrics URL of each in-process processor (none when metrics are off). */
  processorMetrics: ReadonlyMap<CommandProcessor, string>;
  /** Processor child processes (processorMode 'child'). */
  processorChildren: { context: string; pid: number | undefined; metricsUrl: string | undefined }[];
  projectors: ProjectorSet | undefined;
  /** Prometheus endpoint of the in-process projectors (lag per partition, apply rate, dead letters). */
  projectorMetrics: string | undefined;
  query: QueryService | undefined;
  /** The admin API (replay, diff, cutover, ... over HTTP). */
  admin: AdminService | undefined;
  /** A development key with every scope (admin included), kept in <dataDir>/dev-api-key across restarts. */
  apiKey: string;
  endpoints: Stack['endpoints'] & { gateway: string; query?: string; admin?: string };
  stop(): Promise<void>;
}

async function developmentApiKey(dataDir: string): Promise<string> {
  const path = join(dataDir, 'dev-api-key');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const key = `tdk_${randomBytes(24).toString('base64url')}`;
    await writeFile(path, `${key}\n`, { mode: 0o600 });
    return key;
  }
}

/** The deployment module's file, which a child process loads; a deployment built in code has none. */
function configFileOf(deployment: HostedDeployment, what: string): string {
  if (!deployment.file)
    throw new Error(`${what} needs a deployment loaded from a module file (loadDeployment)`);
  return deployment.file;
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { deployment } = options;
  const contexts = deployment.contexts();
  const stack = await startStack({
    dataDir: options.dataDir,
    components: options.components,
    ports: options.ports,
    metricsPort: options.metricsPort,
    brokerMode: options.brokerMode,
    searchRefreshIntervalMs: options.searchRefreshIntervalMs,
    writeEndpoints: options.writeEndpoints ?? false,
    handleSignals: options.handleSignals ?? false,
    logger: options.logger,
    onComponentExit: options.onComponentExit,
  });
  const stops: (() => Promise<void>)[] = [() => stack.stop()];
  // Each part gets a bounded time to stop cleanly (a client whose broker is gone may retry for long).
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          options.logger.warn('a platform part did not stop within 15 s; going on');
          resolve();
        }, 15_000);
      });
      await Promise.race([
        step().catch((error: unknown) => options.logger.error({ err: error }, 'stop step failed')),
        timeout,
      ]);
      clearTimeout(timer);
    }
  };
  try {
    const broker = stack.endpoints.broker;
    if (!broker) throw new Error('the platform needs the broker component');
    const processors: CommandProcessor[] = [];
    const processorMetrics = new Map<CommandProcessor, string>();
    const processorChildren: Platform['processorChildren'] = [];
    for (const [index, context] of contexts.entries()) {
      // Each context's processor serves its own /metrics, after the broker's and the projectors' ports (0 picks one).
      const metricsPort =
        options.metricsPort === null ? -1 : options.metricsPort ? options.metricsPort + 2 + index : 0;
      if (options.processorMode === 'child') {
        const settings = options.processor ?? {};
        const child = await startServiceChild({
          service: 'processor',
          args: [
            '--brokers',
            broker,
            '--config',
            configFileOf(deployment, 'processor mode child'),
            '--context',
            context.name,
            '--partitions',
            String(options.partitions ?? 8),
            `--metrics-port=${metricsPort}`,
            ...(settings.sessionTimeoutMs ? ['--session-timeout-ms', String(settings.sessionTimeoutMs)] : []),
            ...(settings.heartbeatIntervalMs
              ? ['--heartbeat-interval-ms', String(settings.heartbeatIntervalMs)]
              : []),
            ...(settings.snapshotEveryEvents
              ? ['--snapshot-every', String(settings.snapshotEveryEvents)]
              : []),
          ],
          logger: options.logger,
        });
        options.logger.info({ pid: child.pid, context: context.name }, 'processor process ready');
        processorChildren.push({ context: context.name, pid: child.pid, metricsUrl: child.metricsUrl });
        stops.push(() => child.stop());
        continue;
      }
      const processor = await CommandProcessor.start({
        brokers: [broker],
        context,
        partitions: options.partitions ?? 8,
        logger: options.logger,
        ...options.processor,
      });
      processors.push(processor);
      stops.push(() => processor.stop());
      // In the platform's process too, the processor's metrics get their own endpoint, as in child mode.
      if (metricsPort >= 0) {
        const served = await serveMetrics(processor.registry, '127.0.0.1', metricsPort, () => true);
        processorMetrics.set(processor, served.url);
        stops.push(() => served.close());
      }
    }
    const transport = await KafkaCommandTransport.start({
      brokers: [broker],
      contexts: contexts.map((c) => c.name),
      logger: options.logger,
    });
    stops.push(() => transport.close());
    const apiKey = await developmentApiKey(options.dataDir);
    const { apiKeys: extraKeys = [], ...gatewaySettings } = options.gateway ?? {};
    const gateway = await startGateway({
      contexts,
      transport,
      apiKeys: [{ id: 'development', secret: apiKey, scopes: ['*'] }, ...extraKeys],
      logger: options.logger,
      host: '127.0.0.1',
      port: options.ports?.gateway ?? 0,
      ...gatewaySettings,
    });
    stops.push(() => gateway.close());

    let projectors: ProjectorSet | undefined;
    let projectorMetrics: string | undefined;
    let query: QueryService | undefined;
    const postgres = stack.endpoints.postgres;
    const stores = {
      postgres: postgres ?? '',
      redis: stack.endpoints.redis,
      memcached: stack.endpoints.memcached,
      elasticsearch: stack.endpoints.search,
    };
    const catalog = await ProjectionCatalog.load(deployment, options.catalogModule);
    // A projection whose store is not running is left out (e.g. `--components broker,postgres`).
    const runnable = contexts
      .flatMap((c) => catalog.firstVersions(c.name))
      .filter((p) => storeRunning(p.store, stores));
    if (postgres && options.readPath?.projectors !== false && options.readPath?.projectorMode === 'child') {
      const child = await startProjectorChild({
        brokers: [broker],
        stores,
        partitions: options.partitions ?? 8,
        config: configFileOf(deployment, 'projector mode child'),
        projections: runnable.map((p) => p.name),
        catalogModule: options.catalogModule,
        metricsPort: options.metricsPort === null ? -1 : options.metricsPort ? options.metricsPort + 1 : 0,
        sessionTimeoutMs: options.processor?.sessionTimeoutMs,
        heartbeatIntervalMs: options.processor?.heartbeatIntervalMs,
        logger: options.logger,
      });
      projectorMetrics = child.metricsUrl;
      stops.push(() => child.stop());
    } else if (postgres && options.readPath?.projectors !== false) {
      projectors = await ProjectorSet.start({
        brokers: [broker],
        stores,
        partitions: options.partitions ?? 8,
        deployment,
        catalog,
        projections: runnable,
        logger: options.logger,
        sessionTimeoutMs: options.processor?.sessionTimeoutMs,
        heartbeatIntervalMs: options.processor?.heartbeatIntervalMs,
      });
      const running = projectors;
      stops.push(() => running.stop());
      // The projectors' metrics sit next to the broker's: the following port (0 picks one; none without it).
      const metricsPort = options.metricsPort === undefined ? 0 : options.metricsPort;
      if (metricsPort !== null) {
        const served = await serveMetrics(
          running.registry,
          '127.0.0.1',
          metricsPort === 0 ? 0 : metricsPort + 1,
          () => true,
        );
        projectorMetrics = served.url;
        stops.push(() => served.close());
      }
    }
    if (postgres && options.readPath?.query !== false) {
      query = await startQueryService({
        brokers: [broker],
        stores,
        partitions: options.partitions ?? 8,
        deployment,
        apiKeys: [{ id: 'development', secret: apiKey, scopes: ['*'] }, ...extraKeys],
        host: '127.0.0.1',
        port: options.readPath?.queryPort ?? options.ports?.query ?? 0,
        waitTimeoutMs: options.readPath?.waitTimeoutMs,
        catalog,
        logger: options.logger,
      });
      const running = query;
      stops.push(() => running.close());
    }
    let admin: AdminService | undefined;
    if (postgres && options.readPath?.admin !== false) {
      admin = await startAdminService({
        brokers: [broker],
        stores,
        partitions: options.partitions ?? 8,
        deployment,
        catalog,
        apiKeys: [{ id: 'development', secret: apiKey, scopes: ['*'] }, ...extraKeys],
        host: '127.0.0.1',
        port: options.ports?.admin ?? 0,
        logger: options.logger,
      });
      const running = admin;
      stops.push(() => running.close());
    }
    if (options.writeEndpoints) {
      await updateEndpointsFile(options.dataDir, {
        gateway: gateway.url,
        ...(query ? { query: query.url } : {}),
        ...(admin ? { admin: admin.url } : {}),
        apiKey,
        // Operator commands given --endpoints load the same deployment module and catalog.
        ...(deployment.file ? { config: deployment.file } : {}),
        ...(options.catalogModule ? { catalog: path.resolve(options.catalogModule) } : {}),
      });
    }
    return {
      stack,
      gateway,
      processors,
      processorMetrics,
      processorChildren,
      projectors,
      projectorMetrics,
      query,
      admin,
      apiKey,
      endpoints: {
        ...stack.endpoints,
        gateway: gateway.url,
        ...(query ? { query: query.url } : {}),
        ...(admin ? { admin: admin.url } : {}),
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function storeRunning(
  store: string,
  stores: { postgres: string; redis?: string; memcached?: string; elasticsearch?: string },
): boolean {
  switch (store) {
    case 'postgres':
      return stores.postgres !== '';
    case 'redis':
      return stores.redis !== undefined;
    case 'memcached':
      return stores.memcached !== undefined;
    case 'elasticsearch':
      return stores.elasticsearch !== undefined;
    default:
      return false;
  }
}
