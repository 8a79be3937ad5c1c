/** Small promise wrappers over node's fs API for durable writes. */
import * as fs from 'node:fs';
import { dirname } from 'node:path';

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

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fsyncs a directory so that entries created, renamed or removed in it are durable. */
export async function fsyncDir(path: string): Promise<void> {
  const handle = await fs.promises.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` atomically and durably: write a temp file, fsync it, rename over, fsync the directory. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await fs.promises.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmp, path);
  await fsyncDir(dirname(path));
}

export function isErrnoException(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
