/**
 * OffsetCommit (api key 8), versions 0..5.
 *
 * OffsetCommit Request (Version: 0) => group_id [topics]
 *   group_id => STRING
 *   topics => name [partitions]
 *     name => STRING
 *     partitions => partition_index committed_offset committed_metadata
 *       partition_index => INT32
 *       committed_offset => INT64
 *       committed_metadata => NULLABLE_STRING
 *
 * OffsetCommit Request (Version: 1) => group_id generation_id member_id [topics]
 *   generation_id => INT32
 *   member_id => STRING
 *   topics => name [partitions]
 *     partitions => partition_index committed_offset commit_timestamp committed_metadata
 *       commit_timestamp => INT64          (v1 only)
 *
 * OffsetCommit Request (Version: 2..4) => group_id generation_id member_id retention_time_ms [topics]
 *   retention_time_ms => INT64             (v2..4 only)
 *   topics => name [partitions]
 *     partitions => partition_index committed_offset committed_metadata
 *
 * OffsetCommit Request (Version: 5) => group_id generation_id member_id [topics]
 *
 * OffsetCommit Response (Version: 0..5) => throttle_time_ms [topics]
 *   throttle_time_ms => INT32              (v3+)
 *   topics => name [partitions]
 *     name => STRING
 *     partitions => partition_index error_code
 *       partition_index => INT32
 *       error_code => INT16
 */
import type { Reader, Writer } from '../primitives';

export interface OffsetCommitRequestPartition {
  partitionIndex: number;
  committedOffset: number;
  /** v1 only; -1 otherwise. */
  commitTimestamp: number;
  committedMetadata: string | null;
}

export interface OffsetCommitRequestTopic {
  name: string;
  partitions: OffsetCommitRequestPartition[];
}

export interface OffsetCommitRequest {
  groupId: string;
  /** v1+; -1 for v0. */
  generationIdOrMemberEpoch: number;
  /** v1+; '' for v0. */
  memberId: string;
  /** v2..4; -1 otherwise. */
  retentionTimeMs: number;
  topics: OffsetCommitRequestTopic[];
}

export interface OffsetCommitResponseTopic {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

export interface OffsetCommitResponse {
  throttleTimeMs: number;
  topics: OffsetCommitResponseTopic[];
}

export function decodeOffsetCommitRequest(reader: Reader, version: number): OffsetCommitRequest {
  const groupId = reader.string();
  let generationIdOrMemberEpoch = -1;
  let memberId = '';
  if (version >= 1) {
    generationIdOrMemberEpoch = reader.int32();
    memberId = reader.string();
  }
  const retentionTimeMs = version >= 2 && version <= 4 ? reader.int64() : -1;
  const topics = reader.array((r) => ({
    name: r.string(),
    partitions: r.array((rp) => ({
      partitionIndex: rp.int32(),
      committedOffset: rp.int64(),
      commitTimestamp: version === 1 ? rp.int64() : -1,
      committedMetadata: rp.nullableString(),
    })),
  }));
  return { groupId, generationIdOrMemberEpoch, memberId, retentionTimeMs, topics };
}

export function encodeOffsetCommitRequest(
  writer: Writer,
  request: OffsetCommitRequest,
  version: number,
): void {
  writer.string(request.groupId);
  if (version >= 1) writer.int32(request.generationIdOrMemberEpoch).string(request.memberId);
  if (version >= 2 && version <= 4) writer.int64(request.retentionTimeMs);
  writer.array(request.topics, (w, t) => {
    w.string(t.name).array(t.partitions, (wp, p) => {
      wp.int32(p.partitionIndex).int64(p.committedOffset);
      if (version === 1) wp.int64(p.commitTimestamp);
      wp.nullableString(p.committedMetadata);
    });
  });
}

export function encodeOffsetCommitResponse(
  writer: Writer,
  response: OffsetCommitResponse,
  version: number,
): void {
  if (version >= 3) writer.int32(response.throttleTimeMs);
  writer.array(response.topics, (w, t) => {
    w.string(t.name).array(t.partitions, (wp, p) => {
      wp.int32(p.partitionIndex).int16(p.errorCode);
    });
  });
}

export function decodeOffsetCommitResponse(reader: Reader, version: number): OffsetCommitResponse {
  const throttleTimeMs = version >= 3 ? reader.int32() : 0;
  const topics = reader.array((r) => ({
    name: r.string(),
    partitions: r.array((rp) => ({ partitionIndex: rp.int32(), errorCode: rp.int16() })),
  }));
  return { throttleTimeMs, topics };
}
