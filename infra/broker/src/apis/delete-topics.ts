/** DeleteTopics: deletes each named topic and its data. */
import type { BrokerServices } from '../contracts';
import { ApiKey } from '../protocol/api-keys';
import { ErrorCode } from '../protocol/error-codes';
import {
  type DeletableTopicResult,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  decodeDeleteTopicsRequest,
  encodeDeleteTopicsResponse,
} from '../protocol/messages/delete-topics';
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
