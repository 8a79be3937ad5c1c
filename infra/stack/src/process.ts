import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnSpec {
  /** Short name used in logs and errors ("redis", "postgres"). */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  logger: Logger;
  /** Signal for a clean stop (postgres: SIGINT = fast shutdown; others: SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** After stopSignal, wait this long before SIGKILL. */
  stopGraceMs?: number;
  /**
   * Signal the kernel sends the child when this process dies without cleaning up (even on SIGKILL).
   * Linux only, through util-linux `setpriv --pdeathsig`; ignored elsewhere. Defaults to stopSignal.
   */
  deathSignal?: NodeJS.Signals | null;
  /**
   * What to do with the child's output lines: 'log' = pino debug lines tagged with the component (default);
   * 'stderr' = copy raw to our stderr (for children that already log JSON, like the broker).
   */
  output?: 'log' | 'stderr';
  /** Called with each stdout line (e.g. to spot a readiness line). */
  onStdoutLine?: (line: string) => void;
}

const SETPRIV = '/usr/bin/setpriv';
let setprivAvailable: boolean | undefined;

function canUseSetpriv(): boolean {
  if (setprivAvailable === undefined) setprivAvailable = process.platform === 'linux' && existsSync(SETPRIV);
  return setprivAvailable;
}

/** Every child we started and that has not exited yet: killed synchronously on process exit. */
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: send each child its clean-stop signal and let it finish on its own
  // (postgres completes a fast shutdown, redis flushes its AOF), so nothing outlives us for long.
  process.on('exit', killAllChildrenNow);
}

/** Synchronously signals every live child (clean-stop signal). Safe to call many times. */
export function killAllChildrenNow(): void {
  for (const child of live) child.killNow();
}

/** Pids of the children still running (for diagnostics and tests). */
export function liveChildPids(): number[] {
  return [...live].map((child) => child.pid).filter((pid): pid is number => pid !== undefined);
}

const TAIL_LINES = 40;

/**
 * A child process with bookkeeping: output tail for error messages, an `exited` promise, a stop that escalates
 * to SIGKILL, and registration in the process-wide set that is killed on exit.
 *
 * Children stay in our process group (no `detached`), so a terminal Ctrl-C reaches them too, and on Linux they
 * get a parent-death signal so they do not outlive a parent that is SIGKILLed.
 */
export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  private readonly tail: string[] = [];
  private readonly logger: Logger;
  private readonly stopSignal: NodeJS.Signals;
  private readonly stopGraceMs: number;
  private exitInfo: ExitInfo | undefined;
  private spawnError: Error | undefined;
  private stopping: Promise<ExitInfo> | undefined;

  constructor(spec: SpawnSpec) {
    this.name = spec.name;
    this.logger = spec.logger;
    this.stopSignal = spec.stopSignal ?? 'SIGTERM';
    this.stopGraceMs = spec.stopGraceMs ?? 10_000;
    const deathSignal = spec.deathSignal === undefined ? this.stopSignal : spec.deathSignal;
    let command = spec.command;
    let args = spec.args;
    if (deathSignal !== null && canUseSetpriv()) {
      // setpriv sets PR_SET_PDEATHSIG and execs the real program in place (same pid).
      args = ['--pdeathsig', deathSignal, '--', command, ...args];
      command = SETPRIV;
    }
    this.child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      uid: spec.uid,
      gid: spec.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    installExitHook();
    live.add(this);
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
      this.child.once('error', (error) => {
        // spawn failure (ENOENT, EACCES): there will be no 'exit' event.
        this.spawnError = error;
        if (this.child.pid === undefined) {
          this.exitInfo = { code: null, signal: null };
          live.delete(this);
          resolve(this.exitInfo);
        }
      });
    });
    this.pipe(this.child.stdout, spec.output ?? 'log', spec.onStdoutLine);
    this.pipe(this.child.stderr, spec.output ?? 'log', undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last lines the child printed (stdout and stderr interleaved), for error messages. */
  outputTail(lines = 15): string {
    return this.tail.slice(-lines).join('\n');
  }

  /** An Error describing why the child is not running, or undefined while it runs. */
  exitError(): Error | undefined {
    if (this.spawnError && this.child.pid === undefined) {
      return new Error(`${this.name}: could not start: ${this.spawnError.message}`);
    }
    if (this.exitInfo === undefined) return undefined;
    const how =
      this.exitInfo.signal !== null
        ? `was killed by ${this.exitInfo.signal}`
        : `exited with code ${this.exitInfo.code}`;
    const tail = this.outputTail();
    return new Error(`${this.name} ${how}${tail ? `; last output:\n${tail}` : ''}`);
  }

  /** Stops the child: stopSignal, then SIGKILL after the grace period. Resolves once it has exited. */
  stop(): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return Promise.resolve(this.exitInfo);
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.signal(this.stopSignal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.stopGraceMs);
      });
      const first = await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') {
        this.logger.warn(
          { component: this.name, pid: this.pid, graceMs: this.stopGraceMs },
          'did not stop in time, sending SIGKILL',
        );
        this.signal('SIGKILL');
      }
      return this.exited;
    })();
    return this.stopping;
  }

  /** Synchronous, fire-and-forget: sends the clean-stop signal (used from process 'exit'). */
  killNow(signal: NodeJS.Signals = this.stopSignal): void {
    if (this.exitInfo === undefined) this.signal(signal);
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  private pipe(
    stream: NodeJS.ReadableStream | null,
    mode: 'log' | 'stderr',
    onLine: ((line: string) => void) | undefined,
  ): void {
    if (stream === null) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const text = partial + chunk;
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line, mode, onLine);
    });
    stream.on('end', () => {
      if (partial) this.line(partial, mode, onLine);
      partial = '';
    });
  }

  private line(raw: string, mode: 'log' | 'stderr', onLine: ((line: string) => void) | undefined): void {
    const line = raw.replace(/\r$/, '');
    if (line.length === 0) return;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    if (mode === 'stderr') process.stderr.write(`${line}\n`);
    else this.logger.debug({ component: this.name, pid: this.pid }, line);
    onLine?.(line);
  }
}

export function spawnManaged(spec: SpawnSpec): ManagedProcess {
  return new ManagedProcess(spec);
}
