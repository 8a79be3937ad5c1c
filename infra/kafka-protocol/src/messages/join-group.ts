/**
 * JoinGroup (api key 11), versions 0..5.
 *
 * JoinGroup Request (Version: 0) => group_id session_timeout_ms member_id protocol_type [protocols]
 *   group_id => STRING
 *   session_timeout_ms => INT32
 *   member_id => STRING                    ('' for a new member)
 *   protocol_type => STRING
 *   protocols => name metadata
 *     name => STRING
 *     metadata => BYTES
 *
 * JoinGroup Request (Version: 1..4) => group_id session_timeout_ms rebalance_timeout_ms member_id
 *                                      protocol_type [protocols]
 *   rebalance_timeout_ms => INT32
 *
 * JoinGroup Request (Version: 5) => group_id session_timeout_ms rebalance_timeout_ms member_id
 *                                   group_instance_id protocol_type [protocols]
 *   group_instance_id => NULLABLE_STRING
 *
 * JoinGroup Response (Version: 0..4) => throttle_time_ms error_code generation_id protocol_name leader
 *                                       member_id [members]
 *   throttle_time_ms => INT32              (v2+)
 *   error_code => INT16
 *   generation_id => INT32
 *   protocol_name => STRING
 *   leader => STRING
 *   member_id => STRING
 *   members => member_id metadata          (filled for the leader only)
 *     member_id => STRING
 *     metadata => BYTES
 *
 * JoinGroup Response (Version: 5) => ... [members]
 *   members => member_id group_instance_id metadata
 *     group_instance_id => NULLABLE_STRING
 */
import type { Reader, Writer } from '../primitives';

export interface JoinGroupRequestProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  /** v1+; -1 for v0. */
  rebalanceTimeoutMs: number;
  memberId: string;
  /** v5+. */
  groupInstanceId: string | null;
  protocolType: string;
  protocols: JoinGroupRequestProtocol[];
}

export interface JoinGroupResponseMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinGroupResponse {
  throttleTimeMs: number;
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  members: JoinGroupResponseMember[];
}

export function decodeJoinGroupRequest(reader: Reader, version: number): JoinGroupRequest {
  const groupId = reader.string();
  const sessionTimeoutMs = reader.int32();
  const rebalanceTimeoutMs = version >= 1 ? reader.int32() : -1;
  const memberId = reader.string();
  const groupInstanceId = version >= 5 ? reader.nullableString() : null;
  const protocolType = reader.string();
  const protocols = reader.array((r) => ({ name: r.string(), metadata: r.bytes() }));
  return {
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    memberId,
    groupInstanceId,
    protocolType,
    protocols,
  };
}

export function encodeJoinGroupRequest(writer: Writer, request: JoinGroupRequest, version: number): void {
  writer.string(request.groupId).int32(request.sessionTimeoutMs);
  if (version >= 1) writer.int32(request.rebalanceTimeoutMs);
  writer.string(request.memberId);
  if (version >= 5) writer.nullableString(request.groupInstanceId);
  writer.string(request.protocolType).array(request.protocols, (w, p) => {
    w.string(p.name).bytes(p.metadata);
  });
}

export function encodeJoinGroupResponse(writer: Writer, response: JoinGroupResponse, version: number): void {
  if (version >= 2) writer.int32(response.throttleTimeMs);
  writer.int16(response.errorCode).int32(response.generationId);
  writer.string(response.protocolName).string(response.leader).string(response.memberId);
  writer.array(response.members, (w, m) => {
    w.string(m.memberId);
    if (version >= 5) w.nullableString(m.groupInstanceId);
    w.bytes(m.metadata);
  });
}

export function decodeJoinGroupResponse(reader: Reader, version: number): JoinGroupResponse {
  const throttleTimeMs = version >= 2 ? reader.int32() : 0;
  const errorCode = reader.int16();
  const generationId = reader.int32();
  const protocolName = reader.string();
  const leader = reader.string();
  const memberId = reader.string();
  const members = reader.array((r) => ({
    memberId: r.string(),
    groupInstanceId: version >= 5 ? r.nullableString() : null,
    metadata: r.bytes(),
  }));
  return { throttleTimeMs, errorCode, generationId, protocolName, leader, memberId, members };
}
