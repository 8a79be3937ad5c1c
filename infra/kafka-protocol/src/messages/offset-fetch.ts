/**
 * OffsetFetch (api key 9), versions 1..5.
 *
 * OffsetFetch Request (Version: 1..5) => group_id [topics]
 *   group_id => STRING
 *   topics => name [partition_indexes]     (NULLABLE array from v2: null = every committed partition)
 *     name => STRING
 *     partition_indexes => INT32
 *
 * OffsetFetch Response (Version: 1..5) => throttle_time_ms [topics] error_code
 *   throttle_time_ms => INT32              (v3+)
 *   topics => name [partitions]
 *     name => STRING
 *     partitions => partition_index committed_offset committed_leader_epoch metadata error_code
 *       partition_index => INT32
 *       committed_offset => INT64          (-1 = nothing committed)
 *       committed_leader_epoch => INT32    (v5+)
 *       metadata => NULLABLE_STRING
 *       error_code => INT16
 *   error_code => INT16                    (v2+, top-level)
 */
import type { Reader, Writer } from '../primitives';

export interface OffsetFetchRequestTopic {
  name: string;
  partitionIndexes: number[];
}

export interface OffsetFetchRequest {
  groupId: string;
  /** null (v2+): every committed offset of the group. */
  topics: OffsetFetchRequestTopic[] | null;
}

export interface OffsetFetchResponsePartition {
  partitionIndex: number;
  committedOffset: number;
  /** v5+. */
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface OffsetFetchResponseTopic {
  name: string;
  partitions: OffsetFetchResponsePartition[];
}

export interface OffsetFetchResponse {
  throttleTimeMs: number;
  topics: OffsetFetchResponseTopic[];
  /** v2+. */
  errorCode: number;
}

export function decodeOffsetFetchRequest(reader: Reader, version: number): OffsetFetchRequest {
  const groupId = reader.string();
  const readTopic = (r: Reader): OffsetFetchRequestTopic => ({
    name: r.string(),
    partitionIndexes: r.int32Array(),
  });
  const topics = version >= 2 ? reader.nullableArray(readTopic) : reader.array(readTopic);
  return { groupId, topics };
}

export function encodeOffsetFetchRequest(
  writer: Writer,
  request: OffsetFetchRequest,
  _version: number,
): void {
  writer.string(request.groupId).nullableArray(request.topics, (w, t) => {
    w.string(t.name).int32Array(t.partitionIndexes);
  });
}

export function encodeOffsetFetchResponse(
  writer: Writer,
  response: OffsetFetchResponse,
  version: number,
): void {
  if (version >= 3) writer.int32(response.throttleTimeMs);
  writer.array(response.topics, (w, t) => {
    w.string(t.name).array(t.partitions, (wp, p) => {
      wp.int32(p.partitionIndex).int64(p.committedOffset);
      if (version >= 5) wp.int32(p.committedLeaderEpoch);
      wp.nullableString(p.metadata).int16(p.errorCode);
    });
  });
  if (version >= 2) writer.int16(response.errorCode);
}

export function decodeOffsetFetchResponse(reader: Reader, version: number): OffsetFetchResponse {
  const throttleTimeMs = version >= 3 ? reader.int32() : 0;
  const topics = reader.array((r) => ({
    name: r.string(),
    partitions: r.array((rp) => ({
      partitionIndex: rp.int32(),
      committedOffset: rp.int64(),
      committedLeaderEpoch: version >= 5 ? rp.int32() : -1,
      metadata: rp.nullableString(),
      errorCode: rp.int16(),
    })),
  }));
  const errorCode = version >= 2 ? reader.int16() : 0;
  return { throttleTimeMs, topics, errorCode };
}
