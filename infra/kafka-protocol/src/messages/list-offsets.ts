/**
 * ListOffsets (api key 2), versions 0..3.
 *
 * ListOffsets Request (Version: 0) => replica_id [topics]
 *   replica_id => INT32
 *   topics => name [partitions]
 *     name => STRING
 *     partitions => partition_index timestamp max_num_offsets
 *       partition_index => INT32
 *       timestamp => INT64                 (-1 latest, -2 earliest, else a time in ms)
 *       max_num_offsets => INT32
 *
 * ListOffsets Request (Version: 1..3) => replica_id isolation_level [topics]
 *   replica_id => INT32
 *   isolation_level => INT8                (v2+)
 *   topics => name [partitions]
 *     partitions => partition_index timestamp
 *
 * ListOffsets Response (Version: 0) => [topics]
 *   topics => name [partitions]
 *     name => STRING
 *     partitions => partition_index error_code [old_style_offsets]
 *       partition_index => INT32
 *       error_code => INT16
 *       old_style_offsets => INT64
 *
 * ListOffsets Response (Version: 1..3) => throttle_time_ms [topics]
 *   throttle_time_ms => INT32              (v2+)
 *   topics => name [partitions]
 *     partitions => partition_index error_code timestamp offset
 *       timestamp => INT64
 *       offset => INT64
 */
import type { Reader, Writer } from '../primitives';

export interface ListOffsetsPartition {
  partitionIndex: number;
  timestamp: number;
  /** v0 only (1 otherwise). */
  maxNumOffsets: number;
}

export interface ListOffsetsTopic {
  name: string;
  partitions: ListOffsetsPartition[];
}

export interface ListOffsetsRequest {
  replicaId: number;
  /** v2+; 0 below. */
  isolationLevel: number;
  topics: ListOffsetsTopic[];
}

export interface ListOffsetsPartitionResponse {
  partitionIndex: number;
  errorCode: number;
  /** v0 only. */
  oldStyleOffsets: number[];
  /** v1+. */
  timestamp: number;
  /** v1+. */
  offset: number;
}

export interface ListOffsetsTopicResponse {
  name: string;
  partitions: ListOffsetsPartitionResponse[];
}

export interface ListOffsetsResponse {
  throttleTimeMs: number;
  topics: ListOffsetsTopicResponse[];
}

export function decodeListOffsetsRequest(reader: Reader, version: number): ListOffsetsRequest {
  const replicaId = reader.int32();
  const isolationLevel = version >= 2 ? reader.int8() : 0;
  const topics = reader.array((r) => ({
    name: r.string(),
    partitions: r.array((rp) => ({
      partitionIndex: rp.int32(),
      timestamp: rp.int64(),
      maxNumOffsets: version === 0 ? rp.int32() : 1,
    })),
  }));
  return { replicaId, isolationLevel, topics };
}

export function encodeListOffsetsRequest(writer: Writer, request: ListOffsetsRequest, version: number): void {
  writer.int32(request.replicaId);
  if (version >= 2) writer.int8(request.isolationLevel);
  writer.array(request.topics, (w, topic) => {
    w.string(topic.name).array(topic.partitions, (wp, p) => {
      wp.int32(p.partitionIndex).int64(p.timestamp);
      if (version === 0) wp.int32(p.maxNumOffsets);
    });
  });
}

export function encodeListOffsetsResponse(
  writer: Writer,
  response: ListOffsetsResponse,
  version: number,
): void {
  if (version >= 2) writer.int32(response.throttleTimeMs);
  writer.array(response.topics, (w, topic) => {
    w.string(topic.name).array(topic.partitions, (wp, p) => {
      wp.int32(p.partitionIndex).int16(p.errorCode);
      if (version === 0) {
        wp.arrayLength(p.oldStyleOffsets.length);
        for (const offset of p.oldStyleOffsets) wp.int64(offset);
      } else {
        wp.int64(p.timestamp).int64(p.offset);
      }
    });
  });
}

export function decodeListOffsetsResponse(reader: Reader, version: number): ListOffsetsResponse {
  const throttleTimeMs = version >= 2 ? reader.int32() : 0;
  const topics = reader.array((r) => ({
    name: r.string(),
    partitions: r.array((rp): ListOffsetsPartitionResponse => {
      const partitionIndex = rp.int32();
      const errorCode = rp.int16();
      if (version === 0) {
        return {
          partitionIndex,
          errorCode,
          oldStyleOffsets: rp.array((ro) => ro.int64()),
          timestamp: -1,
          offset: -1,
        };
      }
      return { partitionIndex, errorCode, oldStyleOffsets: [], timestamp: rp.int64(), offset: rp.int64() };
    }),
  }));
  return { throttleTimeMs, topics };
}
