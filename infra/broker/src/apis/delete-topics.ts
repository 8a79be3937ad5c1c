/** DeleteTopics: deletes each named topic and its data. */

import {
  ApiKey,
  type DeletableTopicResult,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  decodeDeleteTopicsRequest,
  ErrorCode,
  encodeDeleteTopicsResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleDeleteTopics(
  _ctx: RequestContext,
  request: DeleteTopicsRequest,
  services: BrokerServices,
): Promise<DeleteTopicsResponse> {
  const responses: DeletableTopicResult[] = [];
  for (const name of request.topicNames) {
    try {
      await services.topics.delete(name);
      responses.push({ name, errorCode: ErrorCode.NONE });
    } catch (error) {
      responses.push({ name, errorCode: errorCodeFor(error, services, `deleting topic ${name}`) });
    }
  }
  return { throttleTimeMs: 0, responses };
}

export const deleteTopicsHandler: ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse> = {
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 1,
  decode: decodeDeleteTopicsRequest,
  handle: handleDeleteTopics,
  encode: encodeDeleteTopicsResponse,
  errorCode: (response) => response.responses.find((r) => r.errorCode !== 0)?.errorCode ?? 0,
};
