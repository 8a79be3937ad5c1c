/**
 * Record batch v2 (magic 2): header parsing, validation, in-place offset rewrite, control batches and record
 * timestamps. Pure: no sockets, no fs.
 *
 * Layout (byte offsets): baseOffset 0 (int64), batchLength 8 (int32), partitionLeaderEpoch 12 (int32),
 * magic 16 (int8), crc 17 (uint32, CRC-32C over attributes..end), attributes 21 (int16), lastOffsetDelta 23
 * (int32), baseTimestamp 27 (int64), maxTimestamp 35 (int64), producerId 43 (int64), producerEpoch 51 (int16),
 * baseSequence 53 (int32), recordCount 57 (int32), records 61.
 */
import { crc32c } from './crc32c';
import { ErrorCode, KafkaError } from './error-codes';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;
/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
export const BATCH_HEADER_SIZE = 61;
/** Smallest legal batchLength (a header without records). */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_MASK = 0x10;
export const CONTROL_MASK = 0x20;

export const NO_PRODUCER_ID = -1;
export const NO_SEQUENCE = -1;
export const INT32_MAX = 0x7fffffff;

/** Control record types (key field "type"). */
export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

const TWO_32 = 4294967296;

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_32, pos + 4);
}

/** Total size (LOG_OVERHEAD + batchLength) of the batch at `pos`, or -1 when fewer than 12 bytes remain. */
export function batchSizeAt(buf: Buffer, pos: number): number {
  if (pos + LOG_OVERHEAD > buf.length) return -1;
  return LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
}

/** Parses the 61-byte header at `pos` (the caller makes sure 61 bytes are there). */
export function readBatchHeader(buf: Buffer, pos: number): BatchHeader {
  return {
    baseOffset: readInt64(buf, pos + BASE_OFFSET_OFFSET),
    batchLength: buf.readInt32BE(pos + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORD_COUNT_OFFSET),
  };
}

export function batchSize(header: BatchHeader): number {
  return LOG_OVERHEAD + header.batchLength;
}

export function lastOffsetOf(header: BatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta;
}

export function isTransactional(attributes: number): boolean {
  return (attributes & TRANSACTIONAL_MASK) !== 0;
}

export function isControl(attributes: number): boolean {
  return (attributes & CONTROL_MASK) !== 0;
}

export function compressionOf(attributes: number): number {
  return attributes & COMPRESSION_MASK;
}

/** The last sequence of a batch: baseSequence + lastOffsetDelta, wrapping past INT32_MAX to 0. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence > INT32_MAX - lastOffsetDelta) return lastOffsetDelta - (INT32_MAX - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

export interface BatchSpan {
  /** Byte position of the batch in the scanned buffer. */
  position: number;
  /** LOG_OVERHEAD + batchLength. */
  size: number;
  header: BatchHeader;
}

export interface BatchScan {
  batches: BatchSpan[];
  /** Bytes covered by whole batches (from the start of the buffer). */
  validBytes: number;
  /**
   * Why scanning stopped before the end of the buffer: 'partial' (an incomplete batch at the tail),
   * 'invalid' (a batchLength below the minimum), or null when the buffer held whole batches only.
   */
  stop: 'partial' | 'invalid' | null;
}

/** Splits a buffer into whole batches. Does not check magic or CRC (see validateBatch). */
export function scanBatches(buf: Buffer, start = 0, end = buf.length): BatchScan {
  const batches: BatchSpan[] = [];
  let pos = start;
  let stop: BatchScan['stop'] = null;
  while (pos < end) {
    if (pos + BATCH_HEADER_SIZE > end) {
      if (pos + LOG_OVERHEAD <= end && buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) < MIN_BATCH_LENGTH) {
        stop = 'invalid';
      } else {
        stop = 'partial';
      }
      break;
    }
    const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (batchLength < MIN_BATCH_LENGTH) {
      stop = 'invalid';
      break;
    }
    const size = LOG_OVERHEAD + batchLength;
    if (pos + size > end) {
      stop = 'partial';
      break;
    }
    batches.push({ position: pos, size, header: readBatchHeader(buf, pos) });
    pos += size;
  }
  return { batches, validBytes: pos - start, stop };
}

/** True when the stored CRC-32C matches attributes..end of the batch. */
export function crcMatches(buf: Buffer, pos: number, size: number): boolean {
  const stored = buf.readUInt32BE(pos + CRC_OFFSET);
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size)) === stored;
}

/**
 * Checks a batch that came from a client (Produce). Throws KafkaError:
 * CORRUPT_MESSAGE for a magic other than 2 or a CRC mismatch; INVALID_RECORD for lastOffsetDelta + 1 !=
 * recordCount, an empty batch, a control batch, or a producer id with a negative base sequence.
 */
export function validateClientBatch(buf: Buffer, span: BatchSpan): void {
  const h = span.header;
  if (h.magic !== 2)
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `unsupported record batch magic ${h.magic}`);
  if (!crcMatches(buf, span.position, span.size)) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC mismatch');
  }
  if (h.recordCount < 1 || h.lastOffsetDelta + 1 !== h.recordCount) {
    throw new KafkaError(
      ErrorCode.INVALID_RECORD,
      `lastOffsetDelta ${h.lastOffsetDelta} does not match record count ${h.recordCount}`,
    );
  }
  if (isControl(h.attributes))
    throw new KafkaError(ErrorCode.INVALID_RECORD, 'clients may not send control batches');
  if (h.producerId >= 0 && h.baseSequence < 0) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, 'a batch with a producer id needs a base sequence');
  }
  if (h.producerId < -1)
    throw new KafkaError(ErrorCode.INVALID_RECORD, `invalid producer id ${h.producerId}`);
  if (isTransactional(h.attributes) && h.producerId < 0) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, 'a transactional batch needs a producer id');
  }
}

/** Rewrites baseOffset and partitionLeaderEpoch in place (neither is covered by the CRC). */
export function rewriteBatchBase(
  buf: Buffer,
  pos: number,
  baseOffset: number,
  partitionLeaderEpoch: number,
): void {
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, baseOffset);
  buf.writeInt32BE(partitionLeaderEpoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

// ---------------------------------------------------------------- varints (zigzag, as in protobuf)

/** Zigzag-encodes a signed value (|value| < 2^52) into `out` at `pos`; returns the new position. */
export function writeVarlong(out: Buffer, pos: number, value: number): number {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[pos++] = n;
  return pos;
}

export function varlongSize(value: number): number {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

export interface Varint {
  value: number;
  /** Position just after the varint. */
  next: number;
}

/** Reads a zigzag varint/varlong at `pos`. Throws RangeError when it runs past `end` or is over 10 bytes. */
export function readVarlong(buf: Buffer, pos: number, end = buf.length): Varint {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new RangeError('varint runs past the end of the buffer');
    const b = buf[pos++] as number;
    n += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      const value = n % 2 === 0 ? n / 2 : -(n + 1) / 2;
      return { value, next: pos };
    }
    mul *= 0x80;
  }
  throw new RangeError('varint longer than 10 bytes');
}

// ---------------------------------------------------------------- control batches (transaction markers)

export interface ControlBatchInput {
  baseOffset: number;
  partitionLeaderEpoch: number;
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  timestampMs: number;
}

/**
 * Builds an end-transaction marker: a control batch (attributes control | transactional, as Kafka writes it)
 * with baseSequence -1 and one record whose key is {int16 version 0, int16 type} and whose value is
 * {int16 version 0, int32 coordinator epoch}.
 */
export function buildControlBatch(input: ControlBatchInput): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(input.commit ? ControlType.COMMIT : ControlType.ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(input.coordinatorEpoch, 2);

  // The record's length counts: attributes int8, timestampDelta varlong, offsetDelta varint, key, value,
  // header count varint.
  const recordLength =
    1 +
    varlongSize(0) +
    varlongSize(0) +
    varlongSize(key.length) +
    key.length +
    varlongSize(value.length) +
    value.length +
    varlongSize(0);
  const size = BATCH_HEADER_SIZE + varlongSize(recordLength) + recordLength;
  const buf = Buffer.alloc(size);
  writeInt64(buf, BASE_OFFSET_OFFSET, input.baseOffset);
  buf.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(input.partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(2, MAGIC_OFFSET);
  buf.writeInt16BE(CONTROL_MASK | TRANSACTIONAL_MASK, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(0, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(buf, BASE_TIMESTAMP_OFFSET, input.timestampMs);
  writeInt64(buf, MAX_TIMESTAMP_OFFSET, input.timestampMs);
  writeInt64(buf, PRODUCER_ID_OFFSET, input.producerId);
  buf.writeInt16BE(input.producerEpoch, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(1, RECORD_COUNT_OFFSET);
  let pos = RECORDS_OFFSET;
  pos = writeVarlong(buf, pos, recordLength);
  buf.writeInt8(0, pos++); // record attributes
  pos = writeVarlong(buf, pos, 0); // timestampDelta
  pos = writeVarlong(buf, pos, 0); // offsetDelta
  pos = writeVarlong(buf, pos, key.length);
  pos += key.copy(buf, pos);
  pos = writeVarlong(buf, pos, value.length);
  pos += value.copy(buf, pos);
  pos = writeVarlong(buf, pos, 0); // no headers
  if (pos !== size) throw new Error(`control batch size mismatch: ${pos} != ${size}`);
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return buf;
}

export interface ControlRecord {
  version: number;
  /** ControlType.ABORT (0) or ControlType.COMMIT (1); other values are unknown control types. */
  type: number;
  coordinatorEpoch: number | null;
}

/**
 * Reads the first control record of an (uncompressed) control batch at `pos`. Returns null when the batch is
 * not a control batch or its record cannot be decoded.
 */
export function readControlRecord(buf: Buffer, pos: number, size: number): ControlRecord | null {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  if (!isControl(attributes) || compressionOf(attributes) !== 0) return null;
  const end = pos + size;
  try {
    let p = pos + RECORDS_OFFSET;
    const len = readVarlong(buf, p, end);
    p = len.next;
    const recordEnd = p + len.value;
    if (recordEnd > end) return null;
    p += 1; // attributes
    p = readVarlong(buf, p, recordEnd).next; // timestampDelta
    p = readVarlong(buf, p, recordEnd).next; // offsetDelta
    const keyLen = readVarlong(buf, p, recordEnd);
    p = keyLen.next;
    if (keyLen.value < 4 || p + keyLen.value > recordEnd) return null;
    const version = buf.readInt16BE(p);
    const type = buf.readInt16BE(p + 2);
    p += keyLen.value;
    let coordinatorEpoch: number | null = null;
    const valueLen = readVarlong(buf, p, recordEnd);
    p = valueLen.next;
    if (valueLen.value >= 6 && p + valueLen.value <= recordEnd) coordinatorEpoch = buf.readInt32BE(p + 2);
    return { version, type, coordinatorEpoch };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- timestamps (ListOffsets)

export interface TimestampMatch {
  offset: number;
  timestamp: number;
  /** true when the answer is batch-granular (compressed records): the batch's base offset and max timestamp. */
  approximate: boolean;
}

/**
 * The first record of the batch at `pos` whose timestamp >= target, or null when the batch's maxTimestamp is
 * below the target. Uncompressed batches are answered exactly by decoding the records' timestampDelta;
 * compressed ones (attributes bits 0-2) at batch granularity: base offset, max timestamp. LogAppendTime
 * batches (attribute bit 3) give every record the batch's maxTimestamp.
 */
export function findTimestampInBatch(
  buf: Buffer,
  pos: number,
  size: number,
  target: number,
): TimestampMatch | null {
  const h = readBatchHeader(buf, pos);
  if (h.maxTimestamp < target) return null;
  const batchLevel: TimestampMatch = { offset: h.baseOffset, timestamp: h.maxTimestamp, approximate: true };
  if ((h.attributes & TIMESTAMP_TYPE_MASK) !== 0) {
    return { offset: h.baseOffset, timestamp: h.maxTimestamp, approximate: false };
  }
  if (compressionOf(h.attributes) !== 0) return batchLevel;
  const end = pos + size;
  try {
    let p = pos + RECORDS_OFFSET;
    for (let i = 0; i < h.recordCount; i++) {
      const len = readVarlong(buf, p, end);
      const bodyStart = len.next;
      const recordEnd = bodyStart + len.value;
      if (recordEnd > end) return batchLevel;
      const tsDelta = readVarlong(buf, bodyStart + 1, recordEnd);
      const offsetDelta = readVarlong(buf, tsDelta.next, recordEnd);
      const timestamp = h.baseTimestamp + tsDelta.value;
      if (timestamp >= target)
        return { offset: h.baseOffset + offsetDelta.value, timestamp, approximate: false };
      p = recordEnd;
    }
  } catch {
    return batchLevel;
  }
  // maxTimestamp said yes, the records said no: trust the header.
  return batchLevel;
}
