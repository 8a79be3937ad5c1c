/** Shared helpers for the storage tests: kafkajs-encoded batches, temp dirs, a storage. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import type { BrokerConfig, BrokerMetrics } from '../../src/contracts';
import { DEFAULT_BROKER_CONFIG } from '../../src/server/config';
import { openStorage, type Storage } from '../../src/storage';

export type { BatchOptions } from '@tidemark/kafka-protocol/testing';
export { makeBatch } from '@tidemark/kafka-protocol/testing';

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `tidemark-storage-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function testConfig(dataDir: string, overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  return {
    ...DEFAULT_BROKER_CONFIG,
    port: 0,
    dataDir,
    clusterId: 'test-cluster',
    segmentBytes: 1024 * 1024,
    groupMaxSessionTimeoutMs: 300000,
    ...overrides,
  };
}

export class MetricsSpy implements BrokerMetrics {
  fsyncs = 0;
  requestHandled(): void {}
  bytesIn(): void {}
  bytesOut(): void {}
  fsyncSeconds(): void {
    this.fsyncs++;
  }
  connectionOpened(): void {}
  connectionClosed(): void {}
}

export const silentLogger = pino({ level: 'silent' });

export async function open(
  dataDir: string,
  overrides: Partial<BrokerConfig> = {},
): Promise<Storage & { metrics: MetricsSpy }> {
  const metrics = new MetricsSpy();
  const storage = await openStorage(testConfig(dataDir, overrides), { logger: silentLogger, metrics });
  return Object.assign(storage, { metrics });
}

/** Splits concatenated batches into [baseOffset, recordCount] pairs. */
export function batchOffsets(records: Buffer | null): { base: number; count: number; control: boolean }[] {
  const out: { base: number; count: number; control: boolean }[] = [];
  if (records === null) return out;
  let pos = 0;
  while (pos + 61 <= records.length) {
    const base = Number(records.readBigInt64BE(pos));
    const size = 12 + records.readInt32BE(pos + 8);
    out.push({
      base,
      count: records.readInt32BE(pos + 57),
      control: (records.readInt16BE(pos + 21) & 0x20) !== 0,
    });
    pos += size;
  }
  return out;
}
