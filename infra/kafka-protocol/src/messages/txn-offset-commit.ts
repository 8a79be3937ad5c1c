/**
 * TxnOffsetCommit (api key 28), versions 0..1.
 *
 * TxnOffsetCommit Request (Version: 0..1) => transactional_id group_id producer_id producer_epoch [topics]
 *   transactional_id => STRING
 *   group_id => STRING
 *   producer_id => INT64
 *   producer_epoch => INT16
 *   topics => name [partitions]
 *     name => STRING
 *     partitions => partition_index committed_offset committed_metadata
 *       partition_index => INT32
 *       committed_offset => INT64
 *       committed_metadata => NULLABLE_STRING
 *
 * TxnOffsetCommit Response (Version: 0..1) => throttle_time_ms [topics]
 *   throttle_time_ms => INT32
 *   topics => name [partitions]
 *     name => STRING
 *     partitions => partition_index error_code
 *       partition_index => INT32
 *       error_code => INT16
 */
import type { Reader, Writer } from '../primitives';

export interface TxnOffsetCommitRequestPartition {
  partitionIndex: number;
  committedOffset: number;
  committedMetadata: string | null;
}

export interface TxnOffsetCommitRequestTopic {
  name: string;
  partitions: TxnOffsetCommitRequestPartition[];
}

export interface TxnOffsetCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  topics: TxnOffsetCommitRequestTopic[];
}

export interface TxnOffsetCommitResponseTopic {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

export interface TxnOffsetCommitResponse {
  throttleTimeMs: number;
  topics: TxnOffsetCommitResponseTopic[];
}

export function decodeTxnOffsetCommitRequest(reader: Reader, _version: number): TxnOffsetCommitRequest {
  const transactionalId = reader.string();
  const groupId = reader.string();
  const producerId = reader.int64();
  const producerEpoch = reader.int16();
  const topics = reader.array((r) => ({
    name: r.string(),
    partitions: r.array((rp) => ({
      partitionIndex: rp.int32(),
      committedOffset: rp.int64(),
      committedMetadata: rp.nullableString(),
    })),
  }));
  return { transactionalId, groupId, producerId, producerEpoch, topics };
}

export function encodeTxnOffsetCommitRequest(
  writer: Writer,
  request: TxnOffsetCommitRequest,
  _version: number,
): void {
  writer.string(request.transactionalId).string(request.groupId).int64(request.producerId);
  writer.int16(request.producerEpoch).array(request.topics, (w, t) => {
    w.string(t.name).array(t.partitions, (wp, p) => {
      wp.int32(p.partitionIndex).int64(p.committedOffset).nullableString(p.committedMetadata);
    });
  });
}

export function encodeTxnOffsetCommitResponse(
  writer: Writer,
  response: TxnOffsetCommitResponse,
  _version: number,
): void {
  writer.int32(response.throttleTimeMs).array(response.topics, (w, t) => {
    w.string(t.name).array(t.partitions, (wp, p) => {
      wp.int32(p.partitionIndex).int16(p.errorCode);
    });
  });
}

export function decodeTxnOffsetCommitResponse(reader: Reader, _version: number): TxnOffsetCommitResponse {
  const throttleTimeMs = reader.int32();
  const topics = reader.array((r) => ({
    name: r.string(),
    partitions: r.array((rp) => ({ partitionIndex: rp.int32(), errorCode: rp.int16() })),
  }));
  return { throttleTimeMs, topics };
}
