/** Shared helpers for the storage tests: kafkajs-encoded batches, temp dirs, a storage. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Record = require('kafkajs/src/protocol/recordBatch/record/v0');

import { RecordBatch } from 'kafkajs/src/protocol/recordBatch/v0';
import { pino } from 'pino';
import type { BrokerConfig, BrokerMetrics } from '../../src/contracts';
import { DEFAULT_BROKER_CONFIG } from '../../src/server/config';
import { openStorage, type Storage } from '../../src/storage';

export interface BatchOptions {
  count?: number;
  /** Value of record i. */
  value?: (i: number) => string;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  /** Timestamp of record i (default: 1_700_000_000_000 + i). */
  timestamp?: (i: number) => number;
  /** 0 none, 1 gzip. */
  compression?: number;
}

/** A record batch v2 encoded by kafkajs's own producer encoder. */
export async function makeBatch(options: BatchOptions = {}): Promise<Buffer> {
  const count = options.count ?? 1;
  const ts = options.timestamp ?? ((i: number) => 1_700_000_000_000 + i);
  const value = options.value ?? ((i: number) => `value-${i}`);
  const first = ts(0);
  let max = first;
  const records = [];
  for (let i = 0; i < count; i++) {
    const t = ts(i);
    if (t > max) max = t;
    records.push(Record({ offsetDelta: i, timestampDelta: t - first, key: `key-${i}`, value: value(i) }));
  }
  const encoded = await RecordBatch({
    compression: options.compression ?? 0,
    firstOffset: 0,
    firstTimestamp: first,
    maxTimestamp: max,
    lastOffsetDelta: count - 1,
    transactional: options.transactional ?? false,
    producerId: options.producerId ?? -1,
    producerEpoch: options.producerEpoch ?? 0,
    firstSequence: options.baseSequence ?? 0,
    records,
  });
  return encoded.buffer;
}

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
