/** JoinGroup: delegated to the group coordinator; resolves when the join phase completes. */

import {
  ApiKey,
  decodeJoinGroupRequest,
  encodeJoinGroupResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleJoinGroup(
  ctx: RequestContext,
  request: JoinGroupRequest,
  services: BrokerServices,
): Promise<JoinGroupResponse> {
  try {
    const out = await services.groups.joinGroup({
      groupId: request.groupId,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: ctx.apiVersion >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      protocolType: request.protocolType,
      protocols: request.protocols,
      clientId: ctx.clientId ?? '',
      clientHost: ctx.clientHost,
    });
    return {
      throttleTimeMs: 0,
      errorCode: out.errorCode,
      generationId: out.generationId,
      protocolName: out.protocolName,
      leader: out.leader,
      memberId: out.memberId,
      members: out.members,
    };
  } catch (error) {
    return {
      throttleTimeMs: 0,
      errorCode: errorCodeFor(error, services, 'join group'),
      generationId: -1,
      protocolName: '',
      leader: '',
      memberId: request.memberId,
      members: [],
    };
  }
}

export const joinGroupHandler: ApiHandler<JoinGroupRequest, JoinGroupResponse> = {
  apiKey: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 5,
  decode: decodeJoinGroupRequest,
  handle: handleJoinGroup,
  encode: encodeJoinGroupResponse,
  errorCode: (response) => response.errorCode,
};
