import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { createLogger } from './logger';
import { findFreePort, isPortFree, LOOPBACK, tcpExchange, waitUntil } from './ports';
import { type ManagedProcess, spawnManaged } from './process';
import { requireBinary } from './system-packages';

const execFileAsync = promisify(execFile);

export interface RedisOptions {
  /** Working directory for the AOF/RDB files, e.g. <stack data dir>/redis. */
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Extra `--name value` settings, appended last (they win). */
  settings?: Record<string, string>;
  startTimeoutMs?: number;
  logger?: Logger;
}

export interface RunningRedis {
  host: string;
  port: number;
  /** redis://127.0.0.1:port */
  url: string;
  version: string;
  pid: number | undefined;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Durable but fast: the append-only file with fsync once a second (a crash loses at most ~1 s of writes;
 * SIGTERM flushes and loses nothing), no periodic RDB snapshots (the AOF is the durable copy; its rewrites
 * still use an RDB preamble), one database file set in `dir`.
 */
export const REDIS_DURABILITY: Record<string, string> = {
  appendonly: 'yes',
  appendfsync: 'everysec',
  save: '',
};

async function redisVersion(binary: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(binary, ['--version']);
    return /v=(\S+)/.exec(stdout)?.[1] ?? stdout.trim();
  } catch {
    return 'unknown';
  }
}

/** Spawns /usr/bin/redis-server on 127.0.0.1 and waits for PING -> PONG. */
export async function startRedis(options: RedisOptions): Promise<RunningRedis> {
  const logger = (options.logger ?? createLogger()).child({ component: 'redis' });
  const binary = requireBinary('redis-server');
  const dir = path.resolve(options.dataDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const autoPort = (options.port ?? 0) === 0;
  if (!autoPort && !(await isPortFree(options.port ?? 0))) {
    throw new Error(`redis: port ${options.port} on ${LOOPBACK} is already in use (another stack running?)`);
  }
  const version = await redisVersion(binary);

  for (let attempt = 1; ; attempt++) {
    const port = autoPort ? await findFreePort() : (options.port ?? 0);
    const settings: Record<string, string> = {
      port: String(port),
      bind: LOOPBACK,
      dir,
      daemonize: 'no',
      'protected-mode': 'yes',
      logfile: '',
      loglevel: 'notice',
      ...REDIS_DURABILITY,
      ...options.settings,
    };
    const args: string[] = [];
    for (const [name, value] of Object.entries(settings)) args.push(`--${name}`, value);
    const child = spawnManaged({
      name: 'redis',
      command: binary,
      args,
      cwd: dir,
      logger,
      stopSignal: 'SIGTERM',
      stopGraceMs: 15_000,
    });
    try {
      await waitUntil(
        () => tcpExchange(port, 'PING\r\n', (reply) => reply.includes('\r\n')).then(assertPong),
        {
          timeoutMs: options.startTimeoutMs ?? 30_000,
          what: 'redis',
          abort: () => child.exitError(),
        },
      );
    } catch (error) {
      await child.stop();
      if (autoPort && attempt < 3 && /address already in use/i.test(child.outputTail(40))) {
        logger.warn({ port }, 'picked port was taken meanwhile, retrying with another');
        continue;
      }
      throw error;
    }
    logger.info({ port, pid: child.pid, version, dir, durability: REDIS_DURABILITY }, 'redis ready');
    return {
      host: LOOPBACK,
      port,
      url: `redis://${LOOPBACK}:${port}`,
      version,
      pid: child.pid,
      process: child,
      stop: async () => {
        await child.stop();
        logger.info({ port }, 'redis stopped');
      },
    };
  }
}

function assertPong(reply: string): void {
  // While loading the AOF redis answers "-LOADING ..."; only +PONG means ready.
  if (!reply.startsWith('+PONG')) throw new Error(`unexpected PING reply ${JSON.stringify(reply.trim())}`);
}
