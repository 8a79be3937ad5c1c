/**
 * Fetch (api key 1), versions 4..11. Records are returned as stored (whole record batches, opaque bytes).
 *
 * Fetch Request (Version: 4..11) => replica_id max_wait_ms min_bytes max_bytes isolation_level
 *                                   session_id session_epoch [topics] [forgotten_topics_data] rack_id
 *   replica_id => INT32                     (-1 for consumers)
 *   max_wait_ms => INT32
 *   min_bytes => INT32
 *   max_bytes => INT32
 *   isolation_level => INT8                 (0 read_uncommitted, 1 read_committed)
 *   session_id => INT32                     (v7+)
 *   session_epoch => INT32                  (v7+)
 *   topics => topic [partitions]
 *     topic => STRING
 *     partitions => partition current_leader_epoch fetch_offset log_start_offset partition_max_bytes
 *       partition => INT32
 *       current_leader_epoch => INT32       (v9+)
 *       fetch_offset => INT64
 *       log_start_offset => INT64           (v5+, followers only)
 *       partition_max_bytes => INT32
 *   forgotten_topics_data => topic [partitions]   (v7+)
 *     topic => STRING
 *     partitions => INT32
 *   rack_id => STRING                       (v11+)
 *
 * Fetch Response (Version: 4..11) => throttle_time_ms error_code session_id [responses]
 *   throttle_time_ms => INT32
 *   error_code => INT16                     (v7+)
 *   session_id => INT32                     (v7+)
 *   responses => topic [partitions]
 *     topic => STRING
 *     partitions => partition_index error_code high_watermark last_stable_offset log_start_offset
 *                   [aborted_transactions] preferred_read_replica records
 *       partition_index => INT32
 *       error_code => INT16
 *       high_watermark => INT64
 *       last_stable_offset => INT64
 *       log_start_offset => INT64           (v5+)
 *       aborted_transactions => producer_id first_offset   (NULLABLE array)
 *         producer_id => INT64
 *         first_offset => INT64
 *       preferred_read_replica => INT32     (v11+, -1 = none)
 *       records => NULLABLE_BYTES (RECORDS)
 */
import type { Reader, Writer } from '../primitives';

export interface FetchPartition {
  partition: number;
  currentLeaderEpoch: number;
  fetchOffset: number;
  logStartOffset: number;
  partitionMaxBytes: number;
}

export interface FetchTopic {
  topic: string;
  partitions: FetchPartition[];
}

export interface ForgottenTopic {
  topic: string;
  partitions: number[];
}

export interface FetchRequest {
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  sessionId: number;
  sessionEpoch: number;
  topics: FetchTopic[];
  forgottenTopicsData: ForgottenTopic[];
  rackId: string;
}

export interface FetchAbortedTransaction {
  producerId: number;
  firstOffset: number;
}

export interface FetchPartitionData {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: FetchAbortedTransaction[] | null;
  preferredReadReplica: number;
  records: Buffer | null;
}

export interface FetchableTopicResponse {
  topic: string;
  partitions: FetchPartitionData[];
}

export interface FetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  sessionId: number;
  responses: FetchableTopicResponse[];
}

export function decodeFetchRequest(reader: Reader, version: number): FetchRequest {
  const replicaId = reader.int32();
  const maxWaitMs = reader.int32();
  const minBytes = reader.int32();
  const maxBytes = reader.int32();
  const isolationLevel = reader.int8();
  let sessionId = 0;
  let sessionEpoch = -1;
  if (version >= 7) {
    sessionId = reader.int32();
    sessionEpoch = reader.int32();
  }
  const topicCount = reader.arrayLength();
  const topics: FetchTopic[] = new Array(Math.max(topicCount, 0));
  for (let t = 0; t < topicCount; t++) {
    const topic = reader.string();
    const partitionCount = reader.arrayLength();
    const partitions: FetchPartition[] = new Array(Math.max(partitionCount, 0));
    for (let p = 0; p < partitionCount; p++) {
      const partition = reader.int32();
      const currentLeaderEpoch = version >= 9 ? reader.int32() : -1;
      const fetchOffset = reader.int64();
      const logStartOffset = version >= 5 ? reader.int64() : -1;
      const partitionMaxBytes = reader.int32();
      partitions[p] = { partition, currentLeaderEpoch, fetchOffset, logStartOffset, partitionMaxBytes };
    }
    topics[t] = { topic, partitions };
  }
  let forgottenTopicsData: ForgottenTopic[] = [];
  if (version >= 7) {
    forgottenTopicsData = reader.array((r) => ({ topic: r.string(), partitions: r.int32Array() }));
  }
  const rackId = version >= 11 ? reader.string() : '';
  return {
    replicaId,
    maxWaitMs,
    minBytes,
    maxBytes,
    isolationLevel,
    sessionId,
    sessionEpoch,
    topics,
    forgottenTopicsData,
    rackId,
  };
}

export function encodeFetchRequest(writer: Writer, request: FetchRequest, version: number): void {
  writer.int32(request.replicaId).int32(request.maxWaitMs).int32(request.minBytes).int32(request.maxBytes);
  writer.int8(request.isolationLevel);
  if (version >= 7) writer.int32(request.sessionId).int32(request.sessionEpoch);
  writer.arrayLength(request.topics.length);
  for (const topic of request.topics) {
    writer.string(topic.topic).arrayLength(topic.partitions.length);
    for (const p of topic.partitions) {
      writer.int32(p.partition);
      if (version >= 9) writer.int32(p.currentLeaderEpoch);
      writer.int64(p.fetchOffset);
      if (version >= 5) writer.int64(p.logStartOffset);
      writer.int32(p.partitionMaxBytes);
    }
  }
  if (version >= 7) {
    writer.array(request.forgottenTopicsData, (w, f) => {
      w.string(f.topic).int32Array(f.partitions);
    });
  }
  if (version >= 11) writer.string(request.rackId);
}

export function encodeFetchResponse(writer: Writer, response: FetchResponse, version: number): void {
  writer.int32(response.throttleTimeMs);
  if (version >= 7) writer.int16(response.errorCode).int32(response.sessionId);
  writer.arrayLength(response.responses.length);
  for (const topic of response.responses) {
    writer.string(topic.topic).arrayLength(topic.partitions.length);
    for (const p of topic.partitions) {
      writer.int32(p.partitionIndex).int16(p.errorCode).int64(p.highWatermark).int64(p.lastStableOffset);
      if (version >= 5) writer.int64(p.logStartOffset);
      const aborted = p.abortedTransactions;
      if (aborted === null) {
        writer.arrayLength(-1);
      } else {
        writer.arrayLength(aborted.length);
        for (const a of aborted) writer.int64(a.producerId).int64(a.firstOffset);
      }
      if (version >= 11) writer.int32(p.preferredReadReplica);
      writer.nullableBytes(p.records);
    }
  }
}

export function decodeFetchResponse(reader: Reader, version: number): FetchResponse {
  const throttleTimeMs = reader.int32();
  let errorCode = 0;
  let sessionId = 0;
  if (version >= 7) {
    errorCode = reader.int16();
    sessionId = reader.int32();
  }
  const responses = reader.array((r) => ({
    topic: r.string(),
    partitions: r.array(
      (rp): FetchPartitionData => ({
        partitionIndex: rp.int32(),
        errorCode: rp.int16(),
        highWatermark: rp.int64(),
        lastStableOffset: rp.int64(),
        logStartOffset: version >= 5 ? rp.int64() : -1,
        abortedTransactions: rp.nullableArray((ra) => ({ producerId: ra.int64(), firstOffset: ra.int64() })),
        preferredReadReplica: version >= 11 ? rp.int32() : -1,
        records: rp.nullableBytes(),
      }),
    ),
  }));
  return { throttleTimeMs, errorCode, sessionId, responses };
}
