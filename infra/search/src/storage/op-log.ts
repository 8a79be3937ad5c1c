/**
 * Per-index durable storage: an append-only operation log (JSON lines, one per index/delete with its version
 * and sequence number) plus a periodic snapshot of the whole index, after which older log generations are
 * deleted.
 *
 * Files in the index directory:
 *   snapshot.json      {generation, seqNo, docs: [[id, version, seqNo, source]], tombstones: [[id, version, seqNo]]}
 *   ops-<gen>.log      operations; replay starts at the snapshot's generation and skips seqNo <= snapshot.seqNo
 *
 * Group commit: appends are buffered; one flush round per log writes everything buffered so far, fdatasyncs
 * once and resolves every append of the round, so concurrent writers share an fsync.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { fdatasync, fsyncDir, isErrnoException, writeAll, writeFileAtomic } from './fs-util';

export type LogOp =
  | { op: 'index'; id: string; v: number; seq: number; src: Record<string, unknown> }
  | { op: 'delete'; id: string; v: number; seq: number };

export interface SnapshotState {
  seqNo: number;
  docs: [id: string, version: number, seqNo: number, source: Record<string, unknown>][];
  tombstones: [id: string, version: number, seqNo: number][];
}

export interface RecoveredIndex {
  state: SnapshotState;
  /** Operations after the snapshot, in log order. */
  ops: LogOp[];
}

const SNAPSHOT = 'snapshot.json';
const logName = (generation: number): string => `ops-${String(generation).padStart(8, '0')}.log`;
const LOG_PATTERN = /^ops-(\d+)\.log$/;

/** One open log generation with its own group-commit queue. */
class LogFile {
  private buffer: string[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private flushing = false;
  private idle: (() => void)[] = [];
  failed: Error | null = null;
  bytes: number;
  ops = 0;

  constructor(
    readonly generation: number,
    private readonly fd: number,
    size: number,
    private readonly onFsync: (seconds: number) => void,
  ) {
    this.bytes = size;
  }

  append(line: string): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    this.buffer.push(line);
    this.ops++;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing) {
      this.flushing = true;
      // setImmediate: let requests already read from sockets append before the round starts.
      setImmediate(() => void this.flushLoop());
    }
    return done;
  }

  private async flushLoop(): Promise<void> {
    while (this.buffer.length > 0) {
      const lines = this.buffer;
      const waiters = this.waiters;
      this.buffer = [];
      this.waiters = [];
      try {
        if (this.failed !== null) throw this.failed;
        const data = Buffer.from(lines.join(''));
        await writeAll(this.fd, data, this.bytes);
        this.bytes += data.length;
        const start = process.hrtime.bigint();
        await fdatasync(this.fd);
        this.onFsync(Number(process.hrtime.bigint() - start) / 1e9);
        for (const w of waiters) w.resolve();
      } catch (error) {
        // A failed write or fsync leaves the file in an unknown state: refuse every later append.
        this.failed = error instanceof Error ? error : new Error(String(error));
        for (const w of waiters) w.reject(this.failed);
      }
    }
    this.flushing = false;
    const idle = this.idle;
    this.idle = [];
    for (const resolve of idle) resolve();
  }

  drain(): Promise<void> {
    if (!this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.drain();
    await new Promise<void>((resolve) => fs.close(this.fd, () => resolve()));
  }
}

export class OpLog {
  private snapshotting: Promise<void> | null = null;

  private constructor(
    readonly dir: string,
    private current: LogFile,
    private readonly logger: Logger,
    private readonly onFsync: (seconds: number) => void,
  ) {}

  /** Opens (creating if needed) the index directory; returns the log and what to rebuild the index from. */
  static async open(
    dir: string,
    logger: Logger,
    onFsync: (seconds: number) => void,
  ): Promise<{ log: OpLog; recovered: RecoveredIndex }> {
    await fs.promises.mkdir(dir, { recursive: true });
    let state: SnapshotState & { generation: number } = {
      generation: 0,
      seqNo: -1,
      docs: [],
      tombstones: [],
    };
    try {
      state = JSON.parse(await fs.promises.readFile(join(dir, SNAPSHOT), 'utf8')) as typeof state;
    } catch (error) {
      if (!isErrnoException(error, 'ENOENT')) throw error;
    }
    const generations = (await fs.promises.readdir(dir))
      .map((name) => LOG_PATTERN.exec(name)?.[1])
      .filter((g): g is string => g !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const ops: LogOp[] = [];
    let lastGeneration = state.generation;
    let lastSize = 0;
    for (const generation of generations) {
      const path = join(dir, logName(generation));
      if (generation < state.generation) {
        // Left over from a snapshot whose clean-up did not finish.
        await fs.promises.rm(path, { force: true });
        continue;
      }
      const { ops: fileOps, validBytes } = await readLog(path, logger);
      for (const op of fileOps) if (op.seq > state.seqNo) ops.push(op);
      lastGeneration = generation;
      lastSize = validBytes;
    }
    const path = join(dir, logName(lastGeneration));
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT);
    // Recovery truncates a torn tail: those bytes were never acknowledged.
    fs.ftruncateSync(fd, lastSize);
    fs.fsyncSync(fd);
    await fsyncDir(dir);
    const file = new LogFile(lastGeneration, fd, lastSize, onFsync);
    const { generation: _generation, ...snapshot } = state;
    return { log: new OpLog(dir, file, logger, onFsync), recovered: { state: snapshot, ops } };
  }

  /** Resolves once the operation is durable (fdatasync'd). */
  append(op: LogOp): Promise<void> {
    return this.current.append(`${JSON.stringify(op)}\n`);
  }

  get failed(): Error | null {
    return this.current.failed;
  }

  /** Operations written to the current generation (a snapshot resets it). */
  get opsSinceSnapshot(): number {
    return this.current.ops;
  }

  get bytesSinceSnapshot(): number {
    return this.current.bytes;
  }

  /**
   * Starts a new log generation, then writes `capture()` (the index state, taken synchronously right after the
   * switch) as the snapshot and deletes the older generations. Ops landing in both are skipped on replay by seqNo.
   */
  snapshot(capture: () => SnapshotState): Promise<void> {
    if (this.snapshotting !== null) return this.snapshotting;
    this.snapshotting = this.runSnapshot(capture).finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  private async runSnapshot(capture: () => SnapshotState): Promise<void> {
    const previous = this.current;
    const generation = previous.generation + 1;
    const fd = fs.openSync(join(this.dir, logName(generation)), fs.constants.O_RDWR | fs.constants.O_CREAT);
    this.current = new LogFile(generation, fd, 0, this.onFsync);
    const state = capture();
    await fsyncDir(this.dir);
    await writeFileAtomic(join(this.dir, SNAPSHOT), JSON.stringify({ generation, ...state }));
    await previous.close();
    for (const name of await fs.promises.readdir(this.dir)) {
      const match = LOG_PATTERN.exec(name);
      if (match !== null && Number(match[1]) < generation)
        await fs.promises.rm(join(this.dir, name), { force: true });
    }
    await fsyncDir(this.dir);
    this.logger.debug({ dir: this.dir, generation, docs: state.docs.length }, 'index snapshot written');
  }

  async close(): Promise<void> {
    if (this.snapshotting !== null) await this.snapshotting.catch(() => undefined);
    await this.current.close();
  }
}

/** Reads a log; stops at the first incomplete or unparsable line, which must be the tail. */
async function readLog(path: string, logger: Logger): Promise<{ ops: LogOp[]; validBytes: number }> {
  const data = await fs.promises.readFile(path);
  const ops: LogOp[] = [];
  let position = 0;
  while (position < data.length) {
    const newline = data.indexOf(0x0a, position);
    if (newline === -1) break;
    let op: LogOp;
    try {
      op = JSON.parse(data.subarray(position, newline).toString('utf8')) as LogOp;
    } catch {
      const rest = data.subarray(newline + 1);
      if (rest.indexOf(0x0a) !== -1)
        throw new Error(
          `corrupt operation log ${path} at byte ${position}: unparsable line followed by more data`,
        );
      break;
    }
    ops.push(op);
    position = newline + 1;
  }
  if (position < data.length)
    logger.warn(
      { path, validBytes: position, tornBytes: data.length - position },
      'truncating torn log tail',
    );
  return { ops, validBytes: position };
}
