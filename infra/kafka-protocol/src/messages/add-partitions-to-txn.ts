/**
 * AddPartitionsToTxn (api key 24), versions 0..1 (v1 only changes how the broker reports errors).
 *
 * AddPartitionsToTxn Request (Version: 0..1) => transactional_id producer_id producer_epoch [topics]
 *   transactional_id => STRING
 *   producer_id => INT64
 *   producer_epoch => INT16
 *   topics => name [partitions]
 *     name => STRING
 *     partitions => INT32
 *
 * AddPartitionsToTxn Response (Version: 0..1) => throttle_time_ms [results]
 *   throttle_time_ms => INT32
 *   results => name [results]
 *     name => STRING
 *     results => partition_index partition_error_code
 *       partition_index => INT32
 *       partition_error_code => INT16
 */
import type { Reader, Writer } from '../primitives';

export interface AddPartitionsToTxnTopic {
  name: string;
  partitions: number[];
}

export interface AddPartitionsToTxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  topics: AddPartitionsToTxnTopic[];
}

export interface AddPartitionsToTxnPartitionResult {
  partitionIndex: number;
  partitionErrorCode: number;
}

export interface AddPartitionsToTxnTopicResult {
  name: string;
  resultsByPartition: AddPartitionsToTxnPartitionResult[];
}

export interface AddPartitionsToTxnResponse {
  throttleTimeMs: number;
  resultsByTopic: AddPartitionsToTxnTopicResult[];
}

export function decodeAddPartitionsToTxnRequest(reader: Reader, _version: number): AddPartitionsToTxnRequest {
  const transactionalId = reader.string();
  const producerId = reader.int64();
  const producerEpoch = reader.int16();
  const topics = reader.array((r) => ({ name: r.string(), partitions: r.int32Array() }));
  return { transactionalId, producerId, producerEpoch, topics };
}

export function encodeAddPartitionsToTxnRequest(
  writer: Writer,
  request: AddPartitionsToTxnRequest,
  _version: number,
): void {
  writer.string(request.transactionalId).int64(request.producerId).int16(request.producerEpoch);
  writer.array(request.topics, (w, t) => {
    w.string(t.name).int32Array(t.partitions);
  });
}

export function encodeAddPartitionsToTxnResponse(
  writer: Writer,
  response: AddPartitionsToTxnResponse,
  _version: number,
): void {
  writer.int32(response.throttleTimeMs).array(response.resultsByTopic, (w, t) => {
    w.string(t.name).array(t.resultsByPartition, (wp, p) => {
      wp.int32(p.partitionIndex).int16(p.partitionErrorCode);
    });
  });
}

export function decodeAddPartitionsToTxnResponse(
  reader: Reader,
  _version: number,
): AddPartitionsToTxnResponse {
  const throttleTimeMs = reader.int32();
  const resultsByTopic = reader.array((r) => ({
    name: r.string(),
    resultsByPartition: r.array((rp) => ({ partitionIndex: rp.int32(), partitionErrorCode: rp.int16() })),
  }));
  return { throttleTimeMs, resultsByTopic };
}
