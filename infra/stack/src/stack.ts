import { rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startSearchServer } from '@tidemark/search';
import type { Logger } from 'pino';
import { type BrokerMode, type RunningBrokerComponent, startBrokerComponent } from './broker';
import { type EndpointsFile, endpointsFilePath, shapeEndpoints, writeEndpointsFile } from './endpoints';
import { createLogger } from './logger';
import { type RunningMemcached, startMemcached } from './memcached';
import { type RunningPostgres, startPostgres } from './postgres';
import { killAllChildrenNow, type ManagedProcess } from './process';
import { type RunningRedis, startRedis } from './redis';

export const COMPONENTS = ['broker', 'postgres', 'redis', 'memcached', 'search'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface StackOptions {
  /**
   * Root of all state: <dataDir>/postgres (PGDATA), <dataDir>/redis (AOF), <dataDir>/broker,
   * <dataDir>/endpoints.json, <dataDir>/stack.lock (pid of the process running the stack).
   */
  dataDir: string;
  /** What to start (default: all four). */
  components?: Component[];
  /** Ports on 127.0.0.1; missing or 0 = pick a free one. */
  ports?: Partial<Record<Component, number>>;
  /** Broker /metrics port: 0 (default) picks a free one, null disables it. */
  metricsPort?: number | null;
  /** Periodic refresh of the search server's indices (default 1000 ms, like Elasticsearch). */
  searchRefreshIntervalMs?: number;
  /** 'in-process' (default) or 'child' (needed by tests that kill -9 the broker). */
  brokerMode?: BrokerMode;
  /** PostgreSQL superuser/password/database (default tidemark/tidemark/tidemark). */
  postgres?: { user?: string; password?: string; database?: string };
  /** Write <dataDir>/endpoints.json once everything is up (removed again by stop()). */
  writeEndpoints?: boolean;
  /**
   * Stop the stack on SIGINT/SIGTERM, then let the signal terminate the process as usual (default true).
   * Set false when the caller handles signals itself (tidemark up).
   */
  handleSignals?: boolean;
  /** A component's process ended without stop() being asked for it (crash, kill -9). */
  onComponentExit?: (component: Component, error: Error) => void;
  startTimeoutMs?: number;
  logger?: Logger;
}

export interface StackEndpoints {
  /** host:port */
  broker?: string;
  /** postgres://user:pass@127.0.0.1:port/tidemark */
  postgres?: string;
  /** redis://127.0.0.1:port */
  redis?: string;
  /** 127.0.0.1:port */
  memcached?: string;
  /** http://127.0.0.1:port: the embedded Elasticsearch-API server. */
  search?: string;
  /** Broker Prometheus endpoint. */
  metrics?: string;
}

export interface ComponentInfo {
  endpoint: string;
  port: number;
  /** Child process id; undefined for the in-process broker. */
  pid: number | undefined;
  version: string | undefined;
  detail: string | undefined;
}

export interface Stack {
  readonly dataDir: string;
  readonly endpoints: StackEndpoints;
  readonly components: Partial<Record<Component, ComponentInfo>>;
  /** Path of endpoints.json when writeEndpoints was set. */
  readonly endpointsFile: string | undefined;
  /** Pids of every child process this stack runs. */
  pids(): number[];
  /** Stops one component (if still running, e.g. after a kill -9 it is not) and starts it again on the same port. */
  restart(component: Component): Promise<void>;
  /** Stops one component and leaves it stopped (fault tests: the log becomes unreachable); restart() brings it back. */
  stopComponent(component: Component): Promise<void>;
  /** Stops everything; idempotent. */
  stop(): Promise<void>;
}

interface Running {
  endpoint: string;
  port: number;
  version: string | undefined;
  detail: string | undefined;
  metricsUrl?: string | null;
  process: ManagedProcess | undefined;
  stop(): Promise<void>;
}

/** The data layout under the stack's data dir. */
export function stackPaths(dataDir: string) {
  const root = path.resolve(dataDir);
  return {
    root,
    postgres: path.join(root, 'postgres'),
    redis: path.join(root, 'redis'),
    broker: path.join(root, 'broker'),
    search: path.join(root, 'search'),
    endpoints: endpointsFilePath(root),
    lock: path.join(root, LOCK_FILE),
  };
}

// ------------------------------------------------------------------ signal handling (process-wide)

const signalStacks = new Set<StackImpl>();
let signalsInstalled = false;
let signalCount = 0;

function onSignal(signal: NodeJS.Signals): void {
  signalCount++;
  if (signalCount > 1) {
    // Second Ctrl-C: do not wait any longer.
    killAllChildrenNow();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  }
  const stacks = [...signalStacks];
  void Promise.allSettled(stacks.map((stack) => stack.stop())).then(() => {
    uninstallSignals();
    // Nobody else handles it: terminate the way the signal would have without us.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function installSignals(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  signalCount = 0;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function uninstallSignals(): void {
  if (!signalsInstalled) return;
  signalsInstalled = false;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

// ------------------------------------------------------------------ data dir lock

const LOCK_FILE = 'stack.lock';
const heldLocks = new Set<string>();
let lockCleanupInstalled = false;

function installLockCleanup(): void {
  if (lockCleanupInstalled) return;
  lockCleanupInstalled = true;
  process.on('exit', () => {
    for (const file of heldLocks) rmSync(file, { force: true });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ------------------------------------------------------------------ the stack

class StackImpl implements Stack {
  readonly dataDir: string;
  readonly endpoints: StackEndpoints = {};
  readonly components: Partial<Record<Component, ComponentInfo>> = {};
  endpointsFile: string | undefined;
  private readonly running = new Map<Component, Running>();
  private readonly expectedExit = new Set<Running>();
  private readonly ports: Partial<Record<Component, number>>;
  private metricsPort: number | null;
  private stopping: Promise<void> | undefined;
  private lockFile: string | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: StackOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.logger = options.logger ?? createLogger();
    this.ports = { ...options.ports };
    this.metricsPort = options.metricsPort === undefined ? 0 : options.metricsPort;
  }

  async start(components: Component[]): Promise<void> {
    await fs.mkdir(this.dataDir, { recursive: true, mode: 0o755 });
    await this.lock();
    if (this.options.handleSignals !== false) {
      signalStacks.add(this);
      installSignals();
    }
    const results = await Promise.allSettled(components.map((name) => this.startOne(name)));
    const failures: string[] = [];
    const causes: unknown[] = [];
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        const reason: unknown = result.reason;
        const message = reason instanceof Error ? reason.message : String(reason);
        const name = components[i] ?? '?';
        failures.push(message.startsWith(name) ? message : `${name}: ${message}`);
        causes.push(reason);
      }
    });
    if (failures.length > 0) {
      await this.stop();
      const names = components.filter((_, i) => results[i]?.status === 'rejected');
      throw new Error(`stack: failed to start ${names.join(', ')}\n  ${failures.join('\n  ')}`, {
        cause: causes.length === 1 ? causes[0] : new AggregateError(causes),
      });
    }
    if (this.options.writeEndpoints) {
      this.endpointsFile = await writeEndpointsFile(this.dataDir, this.endpointsForFile());
      this.logger.info({ file: this.endpointsFile }, 'wrote endpoints.json');
    }
  }

  /**
   * One stack per data dir: two would share redis' AOF and the broker's logs. <dataDir>/stack.lock holds the
   * owner's pid; a lock whose pid is gone (kill -9) is taken over.
   */
  private async lock(): Promise<void> {
    const file = path.join(this.dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fs.writeFile(file, `${process.pid}\n`, { flag: 'wx' });
        this.lockFile = file;
        heldLocks.add(file);
        installLockCleanup();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number.parseInt(await fs.readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) {
        throw new Error(
          `stack: data dir ${this.dataDir} is in use by process ${owner} (another \`tidemark up\` or test?); stop it or use another --data-dir`,
        );
      }
      this.logger.warn({ file, owner }, 'removing stale stack lock');
      await fs.rm(file, { force: true });
    }
    throw new Error(`stack: could not lock ${file}`);
  }

  private unlock(): void {
    if (this.lockFile === undefined) return;
    rmSync(this.lockFile, { force: true });
    heldLocks.delete(this.lockFile);
    this.lockFile = undefined;
  }

  /** The stack's part of endpoints.json (the services add theirs later). */
  endpointsForFile(): EndpointsFile {
    return shapeEndpoints({ ...this.endpoints });
  }

  pids(): number[] {
    const pids: number[] = [];
    for (const running of this.running.values()) {
      const pid = running.process?.pid;
      if (pid !== undefined && running.process?.running) pids.push(pid);
    }
    return pids;
  }

  async restart(component: Component): Promise<void> {
    await this.stopComponent(component);
    await this.startOne(component);
  }

  async stopComponent(component: Component): Promise<void> {
    if (this.stopping) throw new Error('stack: stopped');
    const current = this.running.get(component);
    if (!current) return;
    this.expectedExit.add(current);
    await current.stop();
    this.running.delete(component);
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const all = [...this.running.entries()];
    for (const [, running] of all) this.expectedExit.add(running);
    const results = await Promise.allSettled(
      all.map(async ([name, running]) => {
        try {
          await running.stop();
        } catch (error) {
          // A clean stop failed: make sure the process is gone anyway.
          running.process?.killNow('SIGKILL');
          throw new Error(`${name}: ${(error as Error).message}`);
        }
      }),
    );
    this.running.clear();
    this.unlock();
    signalStacks.delete(this);
    if (signalStacks.size === 0) uninstallSignals();
    if (this.endpointsFile) await fs.rm(this.endpointsFile, { force: true });
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      throw new Error(
        `stack: stop failed for ${failed.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join('; ')}`,
      );
    }
    this.logger.info({ dataDir: this.dataDir }, 'stack stopped');
  }

  private async startOne(name: Component): Promise<void> {
    const running = await this.launch(name);
    if (this.stopping) {
      // stop() was called while this component was starting.
      this.expectedExit.add(running);
      await running.stop();
      throw new Error(`${name}: stack stopped while starting`);
    }
    this.running.set(name, running);
    // Keep the same port on a later restart().
    this.ports[name] = running.port;
    this.components[name] = {
      endpoint: running.endpoint,
      port: running.port,
      pid: running.process?.pid,
      version: running.version,
      detail: running.detail,
    };
    this.endpoints[name] = running.endpoint;
    if (name === 'broker') {
      if (running.metricsUrl) this.endpoints.metrics = running.metricsUrl;
      else delete this.endpoints.metrics;
    }
    running.process?.exited.then(() => {
      if (this.expectedExit.has(running)) return;
      const error = running.process?.exitError() ?? new Error(`${name} exited`);
      this.logger.error({ component: name, err: error.message }, 'component exited unexpectedly');
      this.options.onComponentExit?.(name, error);
    });
  }

  private async launch(name: Component): Promise<Running> {
    const paths = stackPaths(this.dataDir);
    const logger = this.logger;
    const port = this.ports[name] ?? 0;
    const startTimeoutMs = this.options.startTimeoutMs;
    switch (name) {
      case 'postgres': {
        const pg: RunningPostgres = await startPostgres({
          dataDir: paths.postgres,
          port,
          ...this.options.postgres,
          startTimeoutMs,
          logger,
        });
        return {
          endpoint: pg.url,
          port: pg.port,
          version: pg.version,
          detail: pg.initialised ? 'new cluster' : undefined,
          process: pg.process,
          stop: pg.stop,
        };
      }
      case 'redis': {
        const redis: RunningRedis = await startRedis({ dataDir: paths.redis, port, startTimeoutMs, logger });
        return {
          endpoint: redis.url,
          port: redis.port,
          version: redis.version,
          detail: 'appendonly everysec',
          process: redis.process,
          stop: redis.stop,
        };
      }
      case 'memcached': {
        const mc: RunningMemcached = await startMemcached({ port, startTimeoutMs, logger });
        return {
          endpoint: mc.address,
          port: mc.port,
          version: mc.version,
          detail: undefined,
          process: mc.process,
          stop: mc.stop,
        };
      }
      case 'search': {
        // In-process like the default broker: an HTTP server over files in <dataDir>/search.
        const server = await startSearchServer({
          dataDir: paths.search,
          host: '127.0.0.1',
          port,
          refreshIntervalMs: this.options.searchRefreshIntervalMs ?? 1000,
          logger: logger.child({ component: 'search' }),
        });
        return {
          endpoint: server.url,
          port: server.port,
          version: undefined,
          detail: 'in-process',
          process: undefined,
          stop: () => server.close(),
        };
      }
      case 'broker': {
        const broker: RunningBrokerComponent = await startBrokerComponent({
          dataDir: paths.broker,
          port,
          metricsPort: this.metricsPort,
          mode: this.options.brokerMode ?? 'in-process',
          startTimeoutMs,
          logger,
        });
        // Keep the metrics port stable across restart() too.
        const metricsPort = broker.metricsUrl ? Number(new URL(broker.metricsUrl).port) : 0;
        if (this.metricsPort === 0 && metricsPort > 0) this.metricsPort = metricsPort;
        return {
          endpoint: broker.bootstrap,
          port: broker.port,
          version: undefined,
          detail: broker.mode,
          metricsUrl: broker.metricsUrl,
          process: broker.process,
          stop: broker.stop,
        };
      }
    }
  }
}

/**
 * Starts the local infrastructure (components in parallel) under options.dataDir and returns its endpoints.
 * A failed start stops whatever already started and throws an error naming the component(s).
 *
 * Nothing is left running: stop() stops every child; on process exit every live child gets its stop signal
 * synchronously; on SIGINT/SIGTERM the stack stops (unless handleSignals is false); on Linux children also
 * get a parent-death signal. Tests must still call stack.stop() in after()/afterEach().
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const components = [...new Set(options.components ?? COMPONENTS)];
  for (const name of components) {
    if (!(COMPONENTS as readonly string[]).includes(name)) {
      throw new Error(`stack: unknown component '${name}' (known: ${COMPONENTS.join(', ')})`);
    }
  }
  const stack = new StackImpl(options);
  const logger = options.logger ?? createLogger();
  logger.info(
    { dataDir: stack.dataDir, components, brokerMode: options.brokerMode ?? 'in-process' },
    'starting stack',
  );
  await stack.start(components);
  logger.info({ endpoints: stack.endpoints }, 'stack ready');
  return stack;
}
