/** SyncGroup: delegated to the group coordinator; followers wait for the leader's assignment. */

import {
  ApiKey,
  decodeSyncGroupRequest,
  encodeSyncGroupResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

const EMPTY = Buffer.alloc(0);

async function handleSyncGroup(
  _ctx: RequestContext,
  request: SyncGroupRequest,
  services: BrokerServices,
): Promise<SyncGroupResponse> {
  try {
    const out = await services.groups.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      assignments: request.assignments,
    });
    return { throttleTimeMs: 0, errorCode: out.errorCode, assignment: out.assignment };
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: errorCodeFor(error, services, 'sync group'), assignment: EMPTY };
  }
}

export const syncGroupHandler: ApiHandler<SyncGroupRequest, SyncGroupResponse> = {
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 3,
  decode: decodeSyncGroupRequest,
  handle: handleSyncGroup,
  encode: encodeSyncGroupResponse,
  errorCode: (response) => response.errorCode,
};
