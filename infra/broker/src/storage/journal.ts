/**
 * A small durable append-only journal of JSON records, one record per line.
 *
 * - open() replays the file; a torn tail (a last line without its newline, or trailing lines that do not
 *   parse, as left by a crash in the middle of a write) is dropped and truncated away. An unparsable line
 *   followed by a valid one is corruption and fails open().
 * - append() resolves once the records are fdatasync'ed. Appends issued while a write is in flight are
 *   batched into the next write and share one fdatasync (group commit).
 * - compact() atomically replaces the whole content: temp file, fsync, rename, fsync of the directory.
 *   Appends issued before compact() are written (and fsynced) first; the caller's records must already
 *   account for them. Appends issued after compact() land in the new file.
 *
 * After a failed write or fsync the journal is poisoned: the on-disk state is unknown, so every later
 * operation rejects.
 */
import { constants as fsConstants, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SYNC_WRITE_MAX_BYTES } from './fs-util';

export interface JournalOptions {
  /** Called with the duration of every fdatasync (metrics). */
  onFsync?: (seconds: number) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

type Op =
  | { kind: 'append'; data: Buffer; waiters: Waiter[] }
  | { kind: 'compact'; data: Buffer; waiter: Waiter };

export class Journal<T> {
  /** The records found in the file by open(), oldest first. */
  readonly replayed: T[];
  private readonly queue: Op[] = [];
  private running = false;
  private failure: Error | null = null;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  private constructor(
    readonly path: string,
    private fd: FileHandle,
    replayed: T[],
    private readonly options: JournalOptions,
  ) {
    this.replayed = replayed;
  }

  static async open<T>(path: string, options: JournalOptions = {}): Promise<Journal<T>> {
    await mkdir(dirname(path), { recursive: true });
    await rm(`${path}.tmp`, { force: true });

    let content: Buffer | null = null;
    try {
      content = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }

    const records: T[] = [];
    let validLength = 0;
    if (content !== null) {
      const parsed = parseLines<T>(content, path);
      records.push(...parsed.records);
      validLength = parsed.validLength;
    }

    const fd = await open(path, fsConstants.O_CREAT | fsConstants.O_WRONLY | fsConstants.O_APPEND, 0o644);
    try {
      if (content === null) {
        await syncDirectory(dirname(path));
      } else if (validLength < content.length) {
        await fd.truncate(validLength);
        await fd.datasync();
      }
    } catch (error) {
      await fd.close();
      throw error;
    }
    return new Journal<T>(path, fd, records, options);
  }

  /** Appends the records; resolves once they are on disk. */
  append(records: T[]): Promise<void> {
    if (records.length === 0) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    const data = Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''), 'utf8');
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.closed) return reject(new Error(`journal ${this.path} is closed`));
      if (this.failure) return reject(this.failure);
      const last = this.queue[this.queue.length - 1];
      if (last?.kind === 'append') {
        // Not yet started: join the batch (group commit).
        last.data = Buffer.concat([last.data, data]);
        last.waiters.push(waiter);
      } else {
        this.queue.push({ kind: 'append', data, waiters: [waiter] });
      }
      this.kick();
    });
  }

  /** Atomically replaces the journal's content with these records. */
  compact(records: T[]): Promise<void> {
    const data = Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''), 'utf8');
    return new Promise<void>((resolve, reject) => {
      if (this.closed) return reject(new Error(`journal ${this.path} is closed`));
      if (this.failure) return reject(this.failure);
      this.queue.push({ kind: 'compact', data, waiter: { resolve, reject } });
      this.kick();
    });
  }

  /** Waits for queued operations, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.running) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.fd.close();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    for (let op = this.queue.shift(); op !== undefined; op = this.queue.shift()) {
      if (this.failure) {
        settle(op, this.failure);
        continue;
      }
      try {
        if (op.kind === 'append') {
          await writeAll(this.fd, op.data);
          await this.sync(this.fd);
        } else {
          await this.replaceWith(op.data);
        }
        settle(op, null);
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error));
        settle(op, this.failure);
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async replaceWith(data: Buffer): Promise<void> {
    const tmpPath = `${this.path}.tmp`;
    const tmp = await open(tmpPath, 'w', 0o644);
    try {
      await writeAll(tmp, data);
      await this.sync(tmp);
    } finally {
      await tmp.close();
    }
    await rename(tmpPath, this.path);
    await syncDirectory(dirname(this.path));
    const old = this.fd;
    this.fd = await open(this.path, fsConstants.O_WRONLY | fsConstants.O_APPEND);
    await old.close();
  }

  private async sync(fd: FileHandle): Promise<void> {
    const started = process.hrtime.bigint();
    await fd.datasync();
    this.options.onFsync?.(Number(process.hrtime.bigint() - started) / 1e9);
  }
}

function settle(op: Op, error: Error | null): void {
  const waiters = op.kind === 'append' ? op.waiters : [op.waiter];
  for (const waiter of waiters) {
    if (error) waiter.reject(error);
    else waiter.resolve();
  }
}

async function writeAll(fd: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  if (data.length <= SYNC_WRITE_MAX_BYTES) {
    // Appends are small: a synchronous write saves the thread-pool round trip (see SYNC_WRITE_MAX_BYTES).
    while (offset < data.length) offset += writeSync(fd.fd, data, offset, data.length - offset);
    return;
  }
  while (offset < data.length) {
    const { bytesWritten } = await fd.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

async function syncDirectory(path: string): Promise<void> {
  let dir: FileHandle;
  try {
    dir = await open(path, 'r');
  } catch {
    return; // platforms that cannot open directories
  }
  try {
    await dir.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await dir.close();
  }
}

function parseLines<T>(content: Buffer, path: string): { records: T[]; validLength: number } {
  const records: T[] = [];
  let validLength = 0;
  let start = 0;
  let badAt: number | null = null;
  while (start < content.length) {
    const end = content.indexOf(0x0a, start);
    if (end === -1) break; // torn last line: no newline
    const line = content.subarray(start, end).toString('utf8');
    let record: T | undefined;
    let ok = false;
    if (line.trim().length > 0) {
      try {
        record = JSON.parse(line) as T;
        ok = true;
      } catch {
        ok = false;
      }
    }
    if (ok) {
      if (badAt !== null) {
        throw new Error(
          `journal ${path} is corrupt: unreadable record at byte ${badAt} followed by valid ones`,
        );
      }
      records.push(record as T);
      validLength = end + 1;
    } else if (badAt === null) {
      badAt = start;
    }
    start = end + 1;
  }
  return { records, validLength };
}
