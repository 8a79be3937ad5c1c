/** `tidemark projector` as a child process (so that a test can kill -9 it), ready once its groups are joined. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { CLI, REPO_DEPLOYMENT_FILE } from './deployment';

export interface ProjectorEndpoints {
  broker: string;
  postgres: string;
  redis?: string;
  memcached?: string;
  search?: string;
}

export interface ChildProjector {
  name: string;
  child: ChildProcess;
  /** Kills with SIGKILL if still alive and waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop) and waits for the exit. */
  stop(): Promise<void>;
}

export async function startChildProjector(
  name: string,
  endpoints: ProjectorEndpoints,
  partitions: number,
  extraArgs: string[] = [],
): Promise<ChildProjector> {
  const args = [
    CLI,
    'projector',
    '--config',
    REPO_DEPLOYMENT_FILE,
    '--brokers',
    endpoints.broker,
    '--postgres',
    endpoints.postgres,
    '--partitions',
    String(partitions),
    '--session-timeout-ms',
    '3000',
    '--heartbeat-interval-ms',
    '300',
    '--metrics-port=-1',
    ...(endpoints.redis ? ['--redis', endpoints.redis] : []),
    ...(endpoints.memcached ? ['--memcached', endpoints.memcached] : []),
    ...(endpoints.search ? ['--elasticsearch', endpoints.search] : []),
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TIDEMARK_LOG_LEVEL: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  await new Promise<void>((ready, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('projector ready')) ready();
    });
    child.once('exit', (code, signal) =>
      fail(new Error(`projector ${name} exited (${code ?? signal}): ${stderr}`)),
    );
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) child.kill('SIGTERM');
      await exited;
    },
  };
}
