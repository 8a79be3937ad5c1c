import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(__dirname, '../../../ops/bin/tidemark.js');
/** The repository's deployment module (from services/processor/dist/test/). */
const CONFIG = resolve(__dirname, '../../../../tidemark.config.js');

export interface ChildProcessor {
  name: string;
  child: ChildProcess;
  signal(signal: NodeJS.Signals): void;
  /** Kills (SIGKILL) if still alive and waits for the exit. */
  kill(): Promise<void>;
}

/** `tidemark processor` as a child process, ready once it has joined its group. */
export async function startChildProcessor(
  name: string,
  bootstrap: string,
  partitions: number,
): Promise<ChildProcessor> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'processor',
      '--brokers',
      bootstrap,
      '--config',
      CONFIG,
      '--context',
      'listings',
      '--partitions',
      String(partitions),
      '--session-timeout-ms',
      '2500',
      '--heartbeat-interval-ms',
      '250',
      '--snapshot-every',
      '50',
      '--max-batch',
      '25',
      '--metrics-port=-1',
      '--instance-id',
      name,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDEMARK_LOG_LEVEL: 'warn' } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  await new Promise<void>((ready, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('processor ready')) ready();
    });
    child.once('exit', (code) => fail(new Error(`processor ${name} exited (${code}): ${stderr}`)));
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    name,
    child,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
