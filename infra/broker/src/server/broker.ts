import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '@tidemark/observability';
import type { BrokerConfig, BrokerServices, GroupCoordinator, LogStore } from '../contracts';
import { DiskGroupCoordinator, DiskTransactionCoordinator } from '../coordinator';
import { KafkaServer } from '../network';
import { openStorage } from '../storage';
import { resolveBrokerConfig } from './config';
import { PrometheusBrokerMetrics, serveMetrics } from './metrics';

export interface BrokerOptions extends Partial<BrokerConfig> {
  dataDir: string;
  /** Port of the Prometheus /metrics HTTP endpoint; 0 picks a free one, null disables it. Default null. */
  metricsPort?: number | null;
  /** pino level; default from TIDEMARK_LOG_LEVEL or 'info'. */
  logLevel?: string;
  /** Port advertised to clients in Metadata and FindCoordinator when it differs from the bound one (a proxy in front). */
  advertisedPort?: number;
}

export interface RunningBroker {
  host: string;
  port: number;
  /** "host:port" for Kafka clients. */
  bootstrap: string;
  metricsUrl: string | null;
  config: BrokerConfig;
  stop(): Promise<void>;
}

interface BrokerMeta {
  clusterId: string;
  createdAtMs: number;
}

/** Starts an embedded broker in this process: storage recovery, coordinators, Kafka listener, metrics. */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const { metricsPort = null, logLevel, advertisedPort, ...configOptions } = options;
  await mkdir(options.dataDir, { recursive: true });
  const releaseLock = await lockDataDir(options.dataDir);
  const stopSteps: (() => Promise<void>)[] = [releaseLock];
  const stopAll = async () => {
    for (const step of stopSteps.splice(0).reverse()) await step();
  };
  try {
    const meta = await loadOrCreateMeta(options.dataDir);
    const config = resolveBrokerConfig(configOptions, meta.clusterId);
    const logger = createLogger('tidemark.broker', { level: logLevel, sync: false }).child({
      nodeId: config.nodeId,
    });

    let log: LogStore | undefined;
    let groups: GroupCoordinator | undefined;
    const metrics = new PrometheusBrokerMetrics({ log: () => log, groups: () => groups });

    const started = Date.now();
    const storage = await openStorage(config, { logger, metrics });
    stopSteps.push(() => storage.close());
    log = storage.log;
    const groupCoordinator = await DiskGroupCoordinator.open(config, {
      logger,
      dataDir: join(config.dataDir, 'coordinator'),
    });
    stopSteps.push(() => groupCoordinator.close());
    groups = groupCoordinator;
    const txns = await DiskTransactionCoordinator.open(config, {
      logger,
      dataDir: join(config.dataDir, 'coordinator'),
      log: storage.log,
      groups: groupCoordinator,
    });
    stopSteps.push(() => txns.close());

    let bound = { host: config.host, port: config.port };
    const services: BrokerServices = {
      config,
      advertised: () => (advertisedPort === undefined ? bound : { host: bound.host, port: advertisedPort }),
      topics: storage.topics,
      log: storage.log,
      groups: groupCoordinator,
      txns,
      logger,
      metrics,
    };
    const server = new KafkaServer(services);
    bound = await server.listen(config.host, config.port);
    stopSteps.push(() => server.close());

    let running = true;
    let metricsUrl: string | null = null;
    if (metricsPort !== null) {
      const endpoint = await serveMetrics(metrics.registry, config.host, metricsPort, () => running);
      metricsUrl = endpoint.url;
      stopSteps.push(() => endpoint.close());
    }
    logger.info(
      {
        host: bound.host,
        port: bound.port,
        metricsUrl,
        dataDir: config.dataDir,
        clusterId: config.clusterId,
        topics: storage.topics.list().length,
        recoveryMs: Date.now() - started,
      },
      'broker started',
    );
    return {
      host: bound.host,
      port: bound.port,
      bootstrap: `${bound.host}:${bound.port}`,
      metricsUrl,
      config,
      async stop() {
        if (!running) return;
        running = false;
        logger.info('broker stopping');
        await stopAll();
        logger.info('broker stopped');
        logger.flush();
      },
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

async function loadOrCreateMeta(dataDir: string): Promise<BrokerMeta> {
  const path = join(dataDir, 'meta.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as BrokerMeta;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Kafka cluster ids are 22-char url-safe base64 of a uuid.
  const clusterId = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
  const meta: BrokerMeta = { clusterId, createdAtMs: Date.now() };
  const temp = `${path}.tmp`;
  await writeFile(temp, JSON.stringify(meta));
  const handle = await open(temp, 'r');
  await handle.datasync();
  await handle.close();
  await rename(temp, path);
  return meta;
}

/** One broker per data directory: a second one would corrupt the logs. A stale lock (dead pid) is taken over. */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, 'broker.lock');
  try {
    const holder = Number.parseInt(await readFile(path, 'utf8'), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new Error(`data directory ${dataDir} is in use by broker process ${holder}`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(path, String(process.pid));
  return () => rm(path, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
