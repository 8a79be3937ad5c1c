/** Loose types for the parts of kafkajs's internal record batch codec the tests drive (kafkajs 2.2.4). */

declare module 'kafkajs/src/protocol/recordBatch/v0' {
  export interface KafkajsEncoder {
    buffer: Buffer;
  }
  export interface RecordBatchInput {
    /** Types: 0 none, 1 gzip. */
    compression?: number;
    firstOffset?: number;
    firstTimestamp?: number;
    maxTimestamp?: number;
    partitionLeaderEpoch?: number;
    lastOffsetDelta?: number;
    transactional?: boolean;
    producerId?: number;
    producerEpoch?: number;
    firstSequence?: number;
    records?: KafkajsEncoder[];
  }
  export function RecordBatch(input: RecordBatchInput): Promise<KafkajsEncoder>;
  export const MAGIC_BYTE: number;
}

declare module 'kafkajs/src/protocol/recordBatch/record/v0' {
  import type { KafkajsEncoder } from 'kafkajs/src/protocol/recordBatch/v0';

  function Record(input: {
    offsetDelta?: number;
    timestampDelta?: number;
    key: Buffer | string | null;
    value: Buffer | string | null;
    headers?: Record<string, string | Buffer>;
  }): KafkajsEncoder;
  export = Record;
}

declare module 'kafkajs/src/protocol/decoder' {
  class Decoder {
    constructor(buffer: Buffer);
  }
  export = Decoder;
}

declare module 'kafkajs/src/protocol/recordBatch/v0/decoder' {
  import type Decoder = require('kafkajs/src/protocol/decoder');
  interface DecodedRecord {
    offset: string;
    timestamp: string;
    key: Buffer | null;
    value: Buffer | null;
    isControlRecord: boolean;
  }
  interface DecodedBatch {
    firstOffset: string;
    partitionLeaderEpoch: number;
    inTransaction: boolean;
    isControlBatch: boolean;
    lastOffsetDelta: number;
    producerId: string;
    producerEpoch: number;
    firstSequence: number;
    maxTimestamp: string;
    records: DecodedRecord[];
  }
  function decode(decoder: Decoder): Promise<DecodedBatch>;
  export = decode;
}
