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

/** Writes all of `buf` at `position` (positional write, retried on short writes). */
export function writeAll(fd: number, buf: Buffer, position: number): Promise<void> {
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

/** Fills buf[0..length) from `position`; resolves with the number of bytes read (short only at end of file). */
export function readInto(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
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
