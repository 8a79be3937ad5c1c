/**
 * LeaveGroup (api key 13), versions 0..3.
 *
 * LeaveGroup Request (Version: 0..2) => group_id member_id
 *   group_id => STRING
 *   member_id => STRING
 *
 * LeaveGroup Request (Version: 3) => group_id [members]
 *   members => member_id group_instance_id
 *     member_id => STRING
 *     group_instance_id => NULLABLE_STRING
 *
 * LeaveGroup Response (Version: 0) => error_code
 *   error_code => INT16
 *
 * LeaveGroup Response (Version: 1..2) => throttle_time_ms error_code
 *   throttle_time_ms => INT32
 *
 * LeaveGroup Response (Version: 3) => throttle_time_ms error_code [members]
 *   members => member_id group_instance_id error_code
 *     member_id => STRING
 *     group_instance_id => NULLABLE_STRING
 *     error_code => INT16
 */
import type { Reader, Writer } from '../primitives';

export interface LeaveGroupMemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupRequest {
  groupId: string;
  /** v0..2; '' for v3. */
  memberId: string;
  /** v3; for v0..2 the single member_id as one identity. */
  members: LeaveGroupMemberIdentity[];
}

export interface LeaveGroupMemberResponse {
  memberId: string;
  groupInstanceId: string | null;
  errorCode: number;
}

export interface LeaveGroupResponse {
  throttleTimeMs: number;
  errorCode: number;
  /** v3+. */
  members: LeaveGroupMemberResponse[];
}

export function decodeLeaveGroupRequest(reader: Reader, version: number): LeaveGroupRequest {
  const groupId = reader.string();
  if (version <= 2) {
    const memberId = reader.string();
    return { groupId, memberId, members: [{ memberId, groupInstanceId: null }] };
  }
  const members = reader.array((r) => ({ memberId: r.string(), groupInstanceId: r.nullableString() }));
  return { groupId, memberId: '', members };
}

export function encodeLeaveGroupRequest(writer: Writer, request: LeaveGroupRequest, version: number): void {
  writer.string(request.groupId);
  if (version <= 2) {
    writer.string(request.memberId);
    return;
  }
  writer.array(request.members, (w, m) => {
    w.string(m.memberId).nullableString(m.groupInstanceId);
  });
}

export function encodeLeaveGroupResponse(
  writer: Writer,
  response: LeaveGroupResponse,
  version: number,
): void {
  if (version >= 1) writer.int32(response.throttleTimeMs);
  writer.int16(response.errorCode);
  if (version >= 3) {
    writer.array(response.members, (w, m) => {
      w.string(m.memberId).nullableString(m.groupInstanceId).int16(m.errorCode);
    });
  }
}

export function decodeLeaveGroupResponse(reader: Reader, version: number): LeaveGroupResponse {
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  const errorCode = reader.int16();
  const members =
    version >= 3
      ? reader.array((r) => ({
          memberId: r.string(),
          groupInstanceId: r.nullableString(),
          errorCode: r.int16(),
        }))
      : [];
  return { throttleTimeMs, errorCode, members };
}
