import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { createLogger } from './logger';

/** Debian package -> the binary it provides, and how to install it elsewhere. */
const PACKAGES: Record<string, { binary: string; brew: string }> = {
  'redis-server': { binary: 'redis-server', brew: 'redis' },
  memcached: { binary: 'memcached', brew: 'memcached' },
  kcat: { binary: 'kcat', brew: 'kcat' },
};

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds an executable: first /usr/bin/<name> (where Debian installs it), then every PATH entry
 * (Homebrew's /opt/homebrew/bin, /usr/local/bin, ...). Returns undefined when missing.
 */
export function findBinary(name: string): string | undefined {
  const candidates = [path.join('/usr/bin', name)];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir) candidates.push(path.join(dir, name));
  }
  return candidates.find(isExecutable);
}

/** Like findBinary, but throws an error telling what to install. */
export function requireBinary(packageName: string): string {
  const binary = PACKAGES[packageName]?.binary ?? packageName;
  const found = findBinary(binary);
  if (found === undefined) throw new Error(`${binary} not found: ${installHint(packageName)}`);
  return found;
}

function installHint(packageName: string): string {
  const brew = PACKAGES[packageName]?.brew ?? packageName;
  return `install ${packageName} (e.g. apt-get install ${packageName} or brew install ${brew})`;
}

function aptGetPath(): string | undefined {
  return findBinary('apt-get');
}

let aptUpdated = false;

function run(command: string, args: string[], logger: Logger): Promise<void> {
  logger.info({ command: [command, ...args].join(' ') }, 'running');
  return new Promise((resolve, reject) => {
    // Progress goes straight to our stderr (stdout of apt-get too), so stdout stays clean.
    const child = spawn(command, args, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

export interface EnsureSystemPackagesOptions {
  logger?: Logger;
}

/**
 * Makes sure the Debian packages' binaries exist (redis-server, memcached, kcat, ...). Missing ones are
 * installed with apt-get when running on Linux as root with apt-get available (`apt-get update` once per
 * process, then one `apt-get install -y --no-install-recommends ...`); otherwise throws an error naming
 * what to install.
 */
export async function ensureSystemPackages(
  names: string[],
  opts: EnsureSystemPackagesOptions = {},
): Promise<void> {
  const logger = opts.logger ?? createLogger('tidemark.system-packages');
  const missing = [...new Set(names)].filter(
    (name) => findBinary(PACKAGES[name]?.binary ?? name) === undefined,
  );
  if (missing.length === 0) {
    logger.debug({ packages: names }, 'system packages present');
    return;
  }
  const aptGet = aptGetPath();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.platform !== 'linux' || !isRoot || aptGet === undefined) {
    const why =
      process.platform !== 'linux'
        ? `not Linux (${process.platform})`
        : aptGet === undefined
          ? 'apt-get is not available'
          : 'not running as root';
    throw new Error(
      `missing system packages: ${missing.join(', ')}; cannot install them automatically (${why}). Please ${missing
        .map(installHint)
        .join('; ')}`,
    );
  }
  logger.info({ packages: missing }, 'installing missing system packages with apt-get');
  if (!aptUpdated) {
    await run(aptGet, ['update'], logger);
    aptUpdated = true;
  }
  await run(aptGet, ['install', '-y', '--no-install-recommends', ...missing], logger);
  const still = missing.filter((name) => findBinary(PACKAGES[name]?.binary ?? name) === undefined);
  if (still.length > 0) {
    throw new Error(
      `apt-get install finished but these are still missing: ${still.join(', ')}. Please ${still.map(installHint).join('; ')}`,
    );
  }
  logger.info({ packages: missing }, 'system packages installed');
}
