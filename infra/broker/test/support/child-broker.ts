import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(__dirname, '../../../../../services/ops/bin/tidemark.js');

export interface ChildBroker {
  process: ChildProcess;
  bootstrap: string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Runs `tidemark broker` as a child process (so a test can SIGKILL it) and waits until it is ready. */
export async function startChildBroker(
  dataDir: string,
  port: number,
  extraArgs: string[] = [],
): Promise<ChildBroker> {
  const child = spawn(
    process.execPath,
    [CLI, 'broker', '--port', String(port), '--data-dir', dataDir, '--metrics-port=-1', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDEMARK_LOG_LEVEL: 'warn' } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const bootstrap = await new Promise<string>((resolveReady, rejectReady) => {
    let stdout = '';
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /broker ready (\S+)/.exec(stdout);
      if (match?.[1]) {
        child.stdout?.off('data', onData);
        resolveReady(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => rejectReady(new Error(`broker exited early (${code}): ${stderr}`)));
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  return {
    process: child,
    bootstrap,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A free TCP port on 127.0.0.1 (a child broker must be restarted on the same port). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort, rejectPort) => {
    const server = createServer();
    server.once('error', rejectPort);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
