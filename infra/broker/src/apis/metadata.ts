/**
 * Metadata: this broker is the whole cluster (controller, leader and only replica of every partition). Unknown
 * topics are created on request when auto-creation is enabled (and, from v4, allowed by the client).
 */

import {
  ApiKey,
  decodeMetadataRequest,
  ErrorCode,
  encodeMetadataResponse,
  KafkaError,
  type MetadataRequest,
  type MetadataResponse,
  type MetadataResponsePartition,
  type MetadataResponseTopic,
} from '@tidemark/kafka-protocol';
import type { BrokerServices, TopicMetadata } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

function describeTopic(topic: TopicMetadata, nodeId: number): MetadataResponseTopic {
  const partitions: MetadataResponsePartition[] = new Array(topic.partitionCount);
  for (let i = 0; i < topic.partitionCount; i++) {
    partitions[i] = {
      errorCode: ErrorCode.NONE,
      partitionIndex: i,
      leaderId: nodeId,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    };
  }
  return { errorCode: ErrorCode.NONE, name: topic.name, isInternal: false, partitions };
}

function failedTopic(name: string, errorCode: number): MetadataResponseTopic {
  return { errorCode, name, isInternal: false, partitions: [] };
}

async function autoCreate(services: BrokerServices, name: string): Promise<TopicMetadata | number> {
  try {
    return await services.topics.create(name, services.config.defaultPartitions);
  } catch (error) {
    if (error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS) {
      const existing = services.topics.get(name);
      if (existing) return existing;
      return ErrorCode.LEADER_NOT_AVAILABLE;
    }
    return errorCodeFor(error, services, `auto-creating topic ${name}`);
  }
}

async function handleMetadata(
  ctx: RequestContext,
  request: MetadataRequest,
  services: BrokerServices,
): Promise<MetadataResponse> {
  const nodeId = services.config.nodeId;
  const { host, port } = services.advertised();
  let topics: MetadataResponseTopic[];
  if (request.topics === null) {
    topics = services.topics.list().map((t) => describeTopic(t, nodeId));
  } else {
    const mayCreate =
      services.config.autoCreateTopics && (ctx.apiVersion < 4 || request.allowAutoTopicCreation);
    topics = new Array(request.topics.length);
    for (let i = 0; i < request.topics.length; i++) {
      const name = request.topics[i]!.name;
      const known = services.topics.get(name);
      if (known) {
        topics[i] = describeTopic(known, nodeId);
      } else if (!mayCreate) {
        topics[i] = failedTopic(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      } else {
        const created = await autoCreate(services, name);
        topics[i] = typeof created === 'number' ? failedTopic(name, created) : describeTopic(created, nodeId);
      }
    }
  }
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId, host, port, rack: null }],
    clusterId: services.config.clusterId,
    controllerId: nodeId,
    topics,
  };
}

export const metadataHandler: ApiHandler<MetadataRequest, MetadataResponse> = {
  apiKey: ApiKey.Metadata,
  minVersion: 1,
  maxVersion: 6,
  decode: decodeMetadataRequest,
  handle: handleMetadata,
  encode: encodeMetadataResponse,
  errorCode: (response) => {
    for (const topic of response.topics) {
      if (topic.errorCode !== 0) return topic.errorCode;
      for (const p of topic.partitions) if (p.errorCode !== 0) return p.errorCode;
    }
    return 0;
  },
};
