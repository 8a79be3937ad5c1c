/**
 * SyncGroup (api key 14), versions 0..3.
 *
 * SyncGroup Request (Version: 0..2) => group_id generation_id member_id [assignments]
 *   group_id => STRING
 *   generation_id => INT32
 *   member_id => STRING
 *   assignments => member_id assignment    (sent by the leader only)
 *     member_id => STRING
 *     assignment => BYTES
 *
 * SyncGroup Request (Version: 3) => group_id generation_id member_id group_instance_id [assignments]
 *   group_instance_id => NULLABLE_STRING
 *
 * SyncGroup Response (Version: 0) => error_code assignment
 *   error_code => INT16
 *   assignment => BYTES
 *
 * SyncGroup Response (Version: 1..3) => throttle_time_ms error_code assignment
 *   throttle_time_ms => INT32
 */
import type { Reader, Writer } from '../primitives';

export interface SyncGroupRequestAssignment {
  memberId: string;
  assignment: Buffer;
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** v3+. */
  groupInstanceId: string | null;
  assignments: SyncGroupRequestAssignment[];
}

export interface SyncGroupResponse {
  throttleTimeMs: number;
  errorCode: number;
  assignment: Buffer;
}

export function decodeSyncGroupRequest(reader: Reader, version: number): SyncGroupRequest {
  const groupId = reader.string();
  const generationId = reader.int32();
  const memberId = reader.string();
  const groupInstanceId = version >= 3 ? reader.nullableString() : null;
  const assignments = reader.array((r) => ({ memberId: r.string(), assignment: r.bytes() }));
  return { groupId, generationId, memberId, groupInstanceId, assignments };
}

export function encodeSyncGroupRequest(writer: Writer, request: SyncGroupRequest, version: number): void {
  writer.string(request.groupId).int32(request.generationId).string(request.memberId);
  if (version >= 3) writer.nullableString(request.groupInstanceId);
  writer.array(request.assignments, (w, a) => {
    w.string(a.memberId).bytes(a.assignment);
  });
}

export function encodeSyncGroupResponse(writer: Writer, response: SyncGroupResponse, version: number): void {
  if (version >= 1) writer.int32(response.throttleTimeMs);
  writer.int16(response.errorCode).bytes(response.assignment);
}

export function decodeSyncGroupResponse(reader: Reader, version: number): SyncGroupResponse {
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  const errorCode = reader.int16();
  return { throttleTimeMs, errorCode, assignment: reader.bytes() };
}
