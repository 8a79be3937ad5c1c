/** FindCoordinator: this broker coordinates every group and every transactional id. */

import {
  ApiKey,
  CoordinatorKeyType,
  decodeFindCoordinatorRequest,
  ErrorCode,
  encodeFindCoordinatorResponse,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import type { ApiHandler, RequestContext } from './registry';

async function handleFindCoordinator(
  _ctx: RequestContext,
  request: FindCoordinatorRequest,
  services: BrokerServices,
): Promise<FindCoordinatorResponse> {
  if (request.keyType !== CoordinatorKeyType.GROUP && request.keyType !== CoordinatorKeyType.TRANSACTION) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unknown coordinator key type ${request.keyType}`,
      nodeId: -1,
      host: '',
      port: -1,
    };
  }
  const { host, port } = services.advertised();
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    nodeId: services.config.nodeId,
    host,
    port,
  };
}

export const findCoordinatorHandler: ApiHandler<FindCoordinatorRequest, FindCoordinatorResponse> = {
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 2,
  decode: decodeFindCoordinatorRequest,
  handle: handleFindCoordinator,
  encode: encodeFindCoordinatorResponse,
  errorCode: (response) => response.errorCode,
};
