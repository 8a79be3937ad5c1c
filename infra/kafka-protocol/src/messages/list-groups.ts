/**
 * ListGroups (api key 16), versions 0..2.
 *
 * ListGroups Request (Version: 0..2) => (no fields)
 *
 * ListGroups Response (Version: 0) => error_code [groups]
 *   error_code => INT16
 *   groups => group_id protocol_type
 *     group_id => STRING
 *     protocol_type => STRING
 *
 * ListGroups Response (Version: 1..2) => throttle_time_ms error_code [groups]
 *   throttle_time_ms => INT32
 */
import type { Reader, Writer } from '../primitives';

export type ListGroupsRequest = Record<string, never>;

export interface ListedGroup {
  groupId: string;
  protocolType: string;
}

export interface ListGroupsResponse {
  throttleTimeMs: number;
  errorCode: number;
  groups: ListedGroup[];
}

export function decodeListGroupsRequest(_reader: Reader, _version: number): ListGroupsRequest {
  return {};
}

export function encodeListGroupsRequest(
  _writer: Writer,
  _request: ListGroupsRequest,
  _version: number,
): void {}

export function encodeListGroupsResponse(
  writer: Writer,
  response: ListGroupsResponse,
  version: number,
): void {
  if (version >= 1) writer.int32(response.throttleTimeMs);
  writer.int16(response.errorCode).array(response.groups, (w, g) => {
    w.string(g.groupId).string(g.protocolType);
  });
}

export function decodeListGroupsResponse(reader: Reader, version: number): ListGroupsResponse {
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  const errorCode = reader.int16();
  const groups = reader.array((r) => ({ groupId: r.string(), protocolType: r.string() }));
  return { throttleTimeMs, errorCode, groups };
}
