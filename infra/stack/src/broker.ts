import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BrokerOptions, RunningBroker } from '@tidemark/broker';
import type { Logger } from 'pino';
import { createLogger } from './logger';
import { findFreePort, isPortFree, isPortOpen, LOOPBACK, waitUntil } from './ports';
import { type ManagedProcess, spawnManaged } from './process';

export type BrokerMode = 'in-process' | 'child';

export interface BrokerComponentOptions {
  /** The broker's data directory, e.g. <stack data dir>/broker. */
  dataDir: string;
  /** Kafka listener port; 0 (default) picks a free one. */
  port?: number;
  /** Prometheus /metrics port; 0 picks a free one; null (default) disables it. */
  metricsPort?: number | null;
  /**
   * 'in-process' (default): startBroker() from @tidemark/broker in this process.
   * 'child': `node services/ops/bin/tidemark.js broker ...` as a child process, for tests that kill -9 it.
   */
  mode?: BrokerMode;
  /** Extra startBroker() options (in-process mode). */
  brokerOptions?: Partial<BrokerOptions>;
  /** Extra `tidemark broker` arguments (child mode). */
  extraArgs?: string[];
  /** Path of bin/tidemark.js for child mode (default: the @tidemark/ops workspace's). */
  cliPath?: string;
  startTimeoutMs?: number;
  logger?: Logger;
}

export interface RunningBrokerComponent {
  mode: BrokerMode;
  host: string;
  port: number;
  /** host:port for Kafka clients. */
  bootstrap: string;
  metricsUrl: string | null;
  /** Child mode only. */
  pid: number | undefined;
  /** Child mode only. */
  process: ManagedProcess | undefined;
  stop(): Promise<void>;
}

/** Where `tidemark` (services/ops/bin/tidemark.js) lives: the workspace package, else relative to this repo. */
export function resolveTidemarkCli(): string {
  try {
    return require.resolve('@tidemark/ops/bin/tidemark.js');
  } catch {
    // dist/src/broker.js -> repo root is four levels up (infra/stack/dist/src).
    return path.resolve(__dirname, '..', '..', '..', '..', 'services', 'ops', 'bin', 'tidemark.js');
  }
}

async function assertFree(port: number, what: string): Promise<void> {
  if (port !== 0 && !(await isPortFree(port))) {
    throw new Error(`broker: ${what} port ${port} on ${LOOPBACK} is already in use (another stack running?)`);
  }
}

/** Starts the Kafka-protocol broker, in this process or as a child. */
export async function startBrokerComponent(options: BrokerComponentOptions): Promise<RunningBrokerComponent> {
  const logger = (options.logger ?? createLogger()).child({ component: 'broker' });
  const mode = options.mode ?? 'in-process';
  const dataDir = path.resolve(options.dataDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o755 });
  await assertFree(options.port ?? 0, 'Kafka');
  await assertFree(options.metricsPort ?? 0, 'metrics');
  return mode === 'child' ? startChild(options, dataDir, logger) : startInProcess(options, dataDir, logger);
}

async function startInProcess(
  options: BrokerComponentOptions,
  dataDir: string,
  logger: Logger,
): Promise<RunningBrokerComponent> {
  // Loaded lazily so that a stack without the broker works even while the broker package is half built.
  const { startBroker } = await import('@tidemark/broker');
  let broker: RunningBroker;
  try {
    broker = await startBroker({
      ...options.brokerOptions,
      dataDir,
      host: LOOPBACK,
      port: options.port ?? 0,
      metricsPort: options.metricsPort ?? null,
    });
  } catch (error) {
    throw new Error(`broker: startBroker failed: ${(error as Error).message}`, { cause: error });
  }
  logger.info(
    { bootstrap: broker.bootstrap, metricsUrl: broker.metricsUrl, mode: 'in-process' },
    'broker ready',
  );
  return {
    mode: 'in-process',
    host: broker.host,
    port: broker.port,
    bootstrap: broker.bootstrap,
    metricsUrl: broker.metricsUrl,
    pid: undefined,
    process: undefined,
    stop: async () => {
      await broker.stop();
      logger.info({ bootstrap: broker.bootstrap }, 'broker stopped');
    },
  };
}

async function startChild(
  options: BrokerComponentOptions,
  dataDir: string,
  logger: Logger,
): Promise<RunningBrokerComponent> {
  const cli = options.cliPath ?? resolveTidemarkCli();
  if (!existsSync(cli)) throw new Error(`broker: cannot find the tidemark CLI at ${cli}`);
  const port = (options.port ?? 0) === 0 ? await findFreePort() : (options.port ?? 0);
  const metricsPort =
    options.metricsPort === null || options.metricsPort === undefined
      ? null
      : options.metricsPort === 0
        ? await findFreePort()
        : options.metricsPort;
  const args = [
    cli,
    'broker',
    `--host=${LOOPBACK}`,
    `--port=${port}`,
    `--data-dir=${dataDir}`,
    `--metrics-port=${metricsPort ?? -1}`,
    ...(options.extraArgs ?? []),
  ];
  let metricsUrl: string | null = metricsPort === null ? null : `http://${LOOPBACK}:${metricsPort}/metrics`;
  const child = spawnManaged({
    name: 'broker',
    command: process.execPath,
    args,
    logger,
    stopSignal: 'SIGTERM',
    stopGraceMs: 15_000,
    // The broker already writes JSON logs: pass them through untouched.
    output: 'stderr',
    onStdoutLine: (line) => {
      // "broker ready <host:port>[ metrics <url>]"
      const match = /^broker ready \S+(?: metrics (\S+))?/.exec(line);
      if (match?.[1]) metricsUrl = match[1];
    },
  });
  try {
    await waitUntil(
      async () => {
        if (!(await isPortOpen(port))) throw new Error(`port ${port} not accepting connections yet`);
      },
      { timeoutMs: options.startTimeoutMs ?? 60_000, what: 'broker (child)', abort: () => child.exitError() },
    );
  } catch (error) {
    await child.stop();
    throw error;
  }
  const bootstrap = `${LOOPBACK}:${port}`;
  logger.info({ bootstrap, metricsUrl, pid: child.pid, mode: 'child' }, 'broker ready');
  return {
    mode: 'child',
    host: LOOPBACK,
    port,
    bootstrap,
    get metricsUrl() {
      return metricsUrl;
    },
    pid: child.pid,
    process: child,
    stop: async () => {
      await child.stop();
      logger.info({ bootstrap }, 'broker stopped');
    },
  };
}
