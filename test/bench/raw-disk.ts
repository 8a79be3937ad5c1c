import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { summarize } from './stats';

/**
 * The disk's raw limit for the broker's write pattern: sequential appends of `chunkBytes`, each followed by
 * fdatasync (what an acknowledged produce costs at minimum).
 */
export async function measureRawSequentialFsync(dir: string, chunkBytes: number, durationMs: number) {
  const path = join(dir, 'raw-disk.bin');
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(chunkBytes, 0x61);
  const latencies: number[] = [];
  let bytes = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    const t0 = performance.now();
    await handle.write(chunk, 0, chunk.length, null);
    await handle.datasync();
    latencies.push(performance.now() - t0);
    bytes += chunk.length;
  }
  const seconds = (performance.now() - started) / 1000;
  await handle.close();
  await rm(path, { force: true });
  return {
    mbPerSec: bytes / 1024 / 1024 / seconds,
    writesPerSec: latencies.length / seconds,
    latencyMs: summarize(latencies),
  };
}
