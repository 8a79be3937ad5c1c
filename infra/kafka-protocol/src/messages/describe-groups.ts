/**
 * DescribeGroups (api key 15), versions 0..2.
 *
 * DescribeGroups Request (Version: 0..2) => [groups]
 *   groups => STRING
 *
 * DescribeGroups Response (Version: 0..2) => throttle_time_ms [groups]
 *   throttle_time_ms => INT32              (v1+)
 *   groups => error_code group_id group_state protocol_type protocol_data [members]
 *     error_code => INT16
 *     group_id => STRING
 *     group_state => STRING                (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead)
 *     protocol_type => STRING
 *     protocol_data => STRING              (the chosen protocol, e.g. the assignor name)
 *     members => member_id client_id client_host member_metadata member_assignment
 *       member_id => STRING
 *       client_id => STRING
 *       client_host => STRING
 *       member_metadata => BYTES
 *       member_assignment => BYTES
 */
import type { Reader, Writer } from '../primitives';

export interface DescribeGroupsRequest {
  groups: string[];
}

export interface DescribedGroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: DescribedGroupMember[];
}

export interface DescribeGroupsResponse {
  throttleTimeMs: number;
  groups: DescribedGroup[];
}

export function decodeDescribeGroupsRequest(reader: Reader, _version: number): DescribeGroupsRequest {
  return { groups: reader.stringArray() };
}

export function encodeDescribeGroupsRequest(
  writer: Writer,
  request: DescribeGroupsRequest,
  _version: number,
): void {
  writer.stringArray(request.groups);
}

export function encodeDescribeGroupsResponse(
  writer: Writer,
  response: DescribeGroupsResponse,
  version: number,
): void {
  if (version >= 1) writer.int32(response.throttleTimeMs);
  writer.array(response.groups, (w, g) => {
    w.int16(g.errorCode).string(g.groupId).string(g.groupState).string(g.protocolType).string(g.protocolData);
    w.array(g.members, (wm, m) => {
      wm.string(m.memberId)
        .string(m.clientId)
        .string(m.clientHost)
        .bytes(m.memberMetadata)
        .bytes(m.memberAssignment);
    });
  });
}

export function decodeDescribeGroupsResponse(reader: Reader, version: number): DescribeGroupsResponse {
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  const groups = reader.array((r) => ({
    errorCode: r.int16(),
    groupId: r.string(),
    groupState: r.string(),
    protocolType: r.string(),
    protocolData: r.string(),
    members: r.array((rm) => ({
      memberId: rm.string(),
      clientId: rm.string(),
      clientHost: rm.string(),
      memberMetadata: rm.bytes(),
      memberAssignment: rm.bytes(),
    })),
  }));
  return { throttleTimeMs, groups };
}
