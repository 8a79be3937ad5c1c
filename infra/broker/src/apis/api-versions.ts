/** ApiVersions: the version ranges of every served API, taken from the handler registry. */

import {
  ApiKey,
  type ApiVersionRange,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  decodeApiVersionsRequest,
  ErrorCode,
  encodeApiVersionsResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import type { ApiHandler, RequestContext } from './registry';

export const API_VERSIONS_MIN = 0;
export const API_VERSIONS_MAX = 3;

/** The answer to an ApiVersions request of an unsupported version (to be written in the v0 layout). */
export function unsupportedApiVersionsResponse(ranges: ApiVersionRange[]): ApiVersionsResponse {
  return { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: ranges, throttleTimeMs: 0 };
}

export function createApiVersionsHandler(
  ranges: () => ApiVersionRange[],
): ApiHandler<ApiVersionsRequest, ApiVersionsResponse> {
  let cached: ApiVersionRange[] | null = null;
  return {
    apiKey: ApiKey.ApiVersions,
    minVersion: API_VERSIONS_MIN,
    maxVersion: API_VERSIONS_MAX,
    decode: decodeApiVersionsRequest,
    async handle(_ctx: RequestContext, _request: ApiVersionsRequest, _services: BrokerServices) {
      cached ??= ranges();
      return { errorCode: ErrorCode.NONE, apiKeys: cached, throttleTimeMs: 0 };
    },
    encode: encodeApiVersionsResponse,
    errorCode: (response) => response.errorCode,
  };
}
