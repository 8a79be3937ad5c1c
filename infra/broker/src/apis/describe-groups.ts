/** DescribeGroups: one description per requested group id, from the group coordinator. */

import {
  ApiKey,
  type DescribedGroup,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
  decodeDescribeGroupsRequest,
  encodeDescribeGroupsResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

function describe(services: BrokerServices, groupId: string): DescribedGroup {
  try {
    const g = services.groups.describeGroup(groupId);
    return {
      errorCode: g.errorCode,
      groupId: g.groupId,
      groupState: g.state,
      protocolType: g.protocolType,
      protocolData: g.protocolData,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.memberMetadata,
        memberAssignment: m.memberAssignment,
      })),
    };
  } catch (error) {
    return {
      errorCode: errorCodeFor(error, services, 'describe group'),
      groupId,
      groupState: '',
      protocolType: '',
      protocolData: '',
      members: [],
    };
  }
}

async function handleDescribeGroups(
  _ctx: RequestContext,
  request: DescribeGroupsRequest,
  services: BrokerServices,
): Promise<DescribeGroupsResponse> {
  return { throttleTimeMs: 0, groups: request.groups.map((id) => describe(services, id)) };
}

export const describeGroupsHandler: ApiHandler<DescribeGroupsRequest, DescribeGroupsResponse> = {
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 2,
  decode: decodeDescribeGroupsRequest,
  handle: handleDescribeGroups,
  encode: encodeDescribeGroupsResponse,
  errorCode: (response) => response.groups.find((g) => g.errorCode !== 0)?.errorCode ?? 0,
};
