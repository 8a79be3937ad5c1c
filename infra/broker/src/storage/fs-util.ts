/** Small promise wrappers over node's callback fs API (lower overhead than FileHandle on the hot path). */
import * as fs from 'node:fs';
import { dirname } from 'node:path';

export function openFile(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd)));
  });
}

export function closeFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Writes up to this many bytes with a synchronous write: a write into the page cache takes microseconds, while a
 * thread-pool round trip costs two context switches (a quarter of the broker's CPU under load on a 2-core VM).
 * Larger writes go through the thread pool so that the event loop is not held for long.
 */
export const SYNC_WRITE_MAX_BYTES = 256 * 1024;

/** Writes all of `buf` at `position`: synchronously when small (see SYNC_WRITE_MAX_BYTES), else in the pool. */
export function writeAll(fd: number, buf: Buffer, position: number): Promise<void> {
  if (buf.length <= SYNC_WRITE_MAX_BYTES) {
    try {
      let done = 0;
      while (done < buf.length) {
        const written = fs.writeSync(fd, buf, done, buf.length - done, position + done);
        if (written === 0) throw new Error(`short write at ${position + done}`);
        done += written;
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return writeAllAsync(fd, buf, position);
}

/** Positional write in the thread pool, retried on short writes. */
function writeAllAsync(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      fs.write(fd, buf, done, buf.length - done, position + done, (err, written) => {
        if (err) return reject(err);
        const total = done + written;
        if (total >= buf.length) return resolve();
        if (written === 0) return reject(new Error(`short write at ${position + total}`));
        step(total);
      });
    };
    step(0);
  });
}

/** Reads up to `length` bytes at `position`; the result is shorter only at end of file. */
export function readAt(fd: number, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  return readInto(fd, buf, length, position).then((n) => (n === length ? buf : buf.subarray(0, n)));
}

/**
 * Reads up to this many bytes synchronously: the tail a live consumer fetches was just written and sits in the
 * page cache, where a read takes microseconds and the thread-pool round trip would cost more. Larger (catch-up)
 * reads, which may go to disk, stay in the pool.
 */
export const SYNC_READ_MAX_BYTES = 64 * 1024;

/** Fills buf[0..length) from `position`; resolves with the number of bytes read (short only at end of file). */
export function readInto(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  if (length <= SYNC_READ_MAX_BYTES) {
    try {
      let done = 0;
      while (done < length) {
        const n = fs.readSync(fd, buf, done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
      return Promise.resolve(done);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done >= length) {
        resolve(done);
        return;
      }
      fs.read(fd, buf, done, length - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return resolve(done);
        step(done + n);
      });
    };
    step(0);
  });
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()));
  });
}

export function ftruncate(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.ftruncate(fd, length, (err) => (err ? reject(err) : resolve()));
  });
}

export function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size)));
  });
}

/** fsyncs a directory so that entries created, renamed or removed in it are durable. */
export async function fsyncDir(path: string): Promise<void> {
  const fd = await openFile(path, 'r');
  try {
    await new Promise<void>((resolve, reject) => {
      fs.fsync(fd, (err) => (err ? reject(err) : resolve()));
    });
  } finally {
    await closeFile(fd);
  }
}

/** Replaces `path` atomically and durably: write a temp file, fsync it, rename over, fsync the directory. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const fd = await openFile(tmp, 'w');
  try {
    await writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data, 0);
    await new Promise<void>((resolve, reject) => {
      fs.fsync(fd, (err) => (err ? reject(err) : resolve()));
    });
  } finally {
    await closeFile(fd);
  }
  await fs.promises.rename(tmp, path);
  await fsyncDir(dirname(path));
}

export function isErrnoException(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
