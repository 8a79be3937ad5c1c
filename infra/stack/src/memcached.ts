import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { createLogger } from './logger';
import { findFreePort, isPortFree, LOOPBACK, tcpExchange, waitUntil } from './ports';
import { type ManagedProcess, spawnManaged } from './process';
import { requireBinary } from './system-packages';

const execFileAsync = promisify(execFile);

export interface MemcachedOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Cache size in MiB (-m). Default 256. */
  memoryMb?: number;
  /** Extra command-line arguments. */
  extraArgs?: string[];
  startTimeoutMs?: number;
  logger?: Logger;
}

export interface RunningMemcached {
  host: string;
  port: number;
  /** host:port */
  address: string;
  version: string;
  pid: number | undefined;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** memcached refuses to run as root without -u; as root we start it directly as `nobody` instead. */
async function unprivileged(): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'nobody']).then((r) => Number.parseInt(r.stdout.trim(), 10)),
      execFileAsync('id', ['-g', 'nobody']).then((r) => Number.parseInt(r.stdout.trim(), 10)),
    ]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  } catch {
    // fall through
  }
  return undefined;
}

/** Spawns memcached on 127.0.0.1 (TCP only, -U 0) and waits for the text-protocol `version` reply. */
export async function startMemcached(options: MemcachedOptions = {}): Promise<RunningMemcached> {
  const logger = (options.logger ?? createLogger()).child({ component: 'memcached' });
  const binary = requireBinary('memcached');
  const autoPort = (options.port ?? 0) === 0;
  if (!autoPort && !(await isPortFree(options.port ?? 0))) {
    throw new Error(
      `memcached: port ${options.port} on ${LOOPBACK} is already in use (another stack running?)`,
    );
  }
  const runAs = await unprivileged();

  for (let attempt = 1; ; attempt++) {
    const port = autoPort ? await findFreePort() : (options.port ?? 0);
    const args = ['-l', LOOPBACK, '-p', String(port), '-m', String(options.memoryMb ?? 256), '-U', '0'];
    // As root without a usable `nobody`, let memcached keep root (-u root) rather than fail.
    if (runAs === undefined && process.getuid?.() === 0) args.push('-u', 'root');
    args.push(...(options.extraArgs ?? []));
    const child = spawnManaged({
      name: 'memcached',
      command: binary,
      args,
      uid: runAs?.uid,
      gid: runAs?.gid,
      logger,
      stopSignal: 'SIGTERM',
      stopGraceMs: 5_000,
    });
    let version = 'unknown';
    try {
      const reply = await waitUntil(() => tcpExchange(port, 'version\r\n', (r) => r.includes('\r\n')), {
        timeoutMs: options.startTimeoutMs ?? 30_000,
        what: 'memcached',
        abort: () => child.exitError(),
      });
      version = /^VERSION (\S+)/.exec(reply)?.[1] ?? reply.trim();
    } catch (error) {
      await child.stop();
      if (autoPort && attempt < 3 && /address already in use|failed to listen/i.test(child.outputTail(40))) {
        logger.warn({ port }, 'picked port was taken meanwhile, retrying with another');
        continue;
      }
      throw error;
    }
    logger.info({ port, pid: child.pid, version }, 'memcached ready');
    return {
      host: LOOPBACK,
      port,
      address: `${LOOPBACK}:${port}`,
      version,
      pid: child.pid,
      process: child,
      stop: async () => {
        await child.stop();
        logger.info({ port }, 'memcached stopped');
      },
    };
  }
}
