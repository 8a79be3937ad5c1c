/** ListGroups: every group known to the coordinator with its protocol type. */

import {
  ApiKey,
  decodeListGroupsRequest,
  ErrorCode,
  encodeListGroupsResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleListGroups(
  _ctx: RequestContext,
  _request: ListGroupsRequest,
  services: BrokerServices,
): Promise<ListGroupsResponse> {
  try {
    const groups = services.groups
      .listGroups()
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: errorCodeFor(error, services, 'list groups'), groups: [] };
  }
}

export const listGroupsHandler: ApiHandler<ListGroupsRequest, ListGroupsResponse> = {
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 2,
  decode: decodeListGroupsRequest,
  handle: handleListGroups,
  encode: encodeListGroupsResponse,
  errorCode: (response) => response.errorCode,
};
