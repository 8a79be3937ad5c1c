/**
 * Heartbeat (api key 12), versions 0..3.
 *
 * Heartbeat Request (Version: 0..2) => group_id generation_id member_id
 *   group_id => STRING
 *   generation_id => INT32
 *   member_id => STRING
 *
 * Heartbeat Request (Version: 3) => group_id generation_id member_id group_instance_id
 *   group_instance_id => NULLABLE_STRING
 *
 * Heartbeat Response (Version: 0) => error_code
 *   error_code => INT16
 *
 * Heartbeat Response (Version: 1..3) => throttle_time_ms error_code
 *   throttle_time_ms => INT32
 */
import type { Reader, Writer } from '../primitives';

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** v3+. */
  groupInstanceId: string | null;
}

export interface HeartbeatResponse {
  throttleTimeMs: number;
  errorCode: number;
}

export function decodeHeartbeatRequest(reader: Reader, version: number): HeartbeatRequest {
  const groupId = reader.string();
  const generationId = reader.int32();
  const memberId = reader.string();
  const groupInstanceId = version >= 3 ? reader.nullableString() : null;
  return { groupId, generationId, memberId, groupInstanceId };
}

export function encodeHeartbeatRequest(writer: Writer, request: HeartbeatRequest, version: number): void {
  writer.string(request.groupId).int32(request.generationId).string(request.memberId);
  if (version >= 3) writer.nullableString(request.groupInstanceId);
}

export function encodeHeartbeatResponse(writer: Writer, response: HeartbeatResponse, version: number): void {
  if (version >= 1) writer.int32(response.throttleTimeMs);
  writer.int16(response.errorCode);
}

export function decodeHeartbeatResponse(reader: Reader, version: number): HeartbeatResponse {
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  return { throttleTimeMs, errorCode: reader.int16() };
}
