/** Heartbeat: delegated to the group coordinator. */

import {
  ApiKey,
  decodeHeartbeatRequest,
  encodeHeartbeatResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleHeartbeat(
  _ctx: RequestContext,
  request: HeartbeatRequest,
  services: BrokerServices,
): Promise<HeartbeatResponse> {
  let errorCode: number;
  try {
    errorCode = services.groups.heartbeat({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
    });
  } catch (error) {
    errorCode = errorCodeFor(error, services, 'heartbeat');
  }
  return { throttleTimeMs: 0, errorCode };
}

export const heartbeatHandler: ApiHandler<HeartbeatRequest, HeartbeatResponse> = {
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 3,
  decode: decodeHeartbeatRequest,
  handle: handleHeartbeat,
  encode: encodeHeartbeatResponse,
  errorCode: (response) => response.errorCode,
};
