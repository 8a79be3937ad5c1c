/**
 * CreateTopics: num_partitions -1 means the broker default (or the number of manual assignments); replication
 * factor -1 or 1 only (one broker). Error messages are returned from v1 on.
 */

import {
  ApiKey,
  type CreatableTopic,
  type CreatableTopicResult,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  decodeCreateTopicsRequest,
  ErrorCode,
  encodeCreateTopicsResponse,
  errorName,
  KafkaError,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

function failure(name: string, errorCode: number, errorMessage: string): CreatableTopicResult {
  return { name, errorCode, errorMessage };
}

async function createOne(
  services: BrokerServices,
  topic: CreatableTopic,
  validateOnly: boolean,
): Promise<CreatableTopicResult> {
  let partitionCount = topic.numPartitions;
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      return failure(
        topic.name,
        ErrorCode.INVALID_REQUEST,
        'Both numPartitions or replicationFactor and replicasAssignments were set.',
      );
    }
    const nodeId = services.config.nodeId;
    const expected = topic.assignments.map((_, i) => i).join(',');
    const got = topic.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
    if (got.join(',') !== expected) {
      return failure(
        topic.name,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'Partitions must be numbered from 0 without gaps.',
      );
    }
    if (topic.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== nodeId)) {
      return failure(
        topic.name,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Every replica must be on broker ${nodeId}.`,
      );
    }
    partitionCount = topic.assignments.length;
  } else if (partitionCount === -1) {
    partitionCount = services.config.defaultPartitions;
  }

  const configs: Record<string, string> = {};
  for (const c of topic.configs) if (c.value !== null) configs[c.name] = c.value;
  try {
    await services.topics.create(topic.name, partitionCount, {
      replicationFactor: topic.replicationFactor,
      configs,
      validateOnly,
    });
    return { name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (error) {
    const code = errorCodeFor(error, services, `creating topic ${topic.name}`);
    const message = error instanceof KafkaError ? error.message : errorName(code);
    return failure(topic.name, code, message);
  }
}

async function handleCreateTopics(
  _ctx: RequestContext,
  request: CreateTopicsRequest,
  services: BrokerServices,
): Promise<CreateTopicsResponse> {
  const counts = new Map<string, number>();
  for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  const topics: CreatableTopicResult[] = [];
  for (const topic of request.topics) {
    if ((counts.get(topic.name) ?? 0) > 1) {
      topics.push(
        failure(topic.name, ErrorCode.INVALID_REQUEST, 'The topic appears more than once in the request.'),
      );
      continue;
    }
    topics.push(await createOne(services, topic, request.validateOnly));
  }
  return { throttleTimeMs: 0, topics };
}

export const createTopicsHandler: ApiHandler<CreateTopicsRequest, CreateTopicsResponse> = {
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 3,
  decode: decodeCreateTopicsRequest,
  handle: handleCreateTopics,
  encode: encodeCreateTopicsResponse,
  errorCode: (response) => response.topics.find((t) => t.errorCode !== 0)?.errorCode ?? 0,
};
