/** Record batches encoded by kafkajs's own producer encoder (the reference bytes of the codec tests). */
import Record = require('kafkajs/src/protocol/recordBatch/record/v0');

import { RecordBatch } from 'kafkajs/src/protocol/recordBatch/v0';

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
