/**
 * LeaveGroup: delegated to the group coordinator. v0..2 name one member; their single error code is the member's
 * error when the group-level code is NONE.
 */

import {
  ApiKey,
  decodeLeaveGroupRequest,
  ErrorCode,
  encodeLeaveGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleLeaveGroup(
  ctx: RequestContext,
  request: LeaveGroupRequest,
  services: BrokerServices,
): Promise<LeaveGroupResponse> {
  try {
    const out = services.groups.leaveGroup(request.groupId, request.members);
    let errorCode = out.errorCode;
    if (ctx.apiVersion <= 2 && errorCode === ErrorCode.NONE) {
      errorCode = out.members.find((m) => m.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
    }
    return { throttleTimeMs: 0, errorCode, members: out.members };
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: errorCodeFor(error, services, 'leave group'), members: [] };
  }
}

export const leaveGroupHandler: ApiHandler<LeaveGroupRequest, LeaveGroupResponse> = {
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 3,
  decode: decodeLeaveGroupRequest,
  handle: handleLeaveGroup,
  encode: encodeLeaveGroupResponse,
  errorCode: (response) => {
    if (response.errorCode !== 0) return response.errorCode;
    return response.members.find((m) => m.errorCode !== 0)?.errorCode ?? 0;
  },
};
