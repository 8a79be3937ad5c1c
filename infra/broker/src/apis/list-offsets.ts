/**
 * ListOffsets: -1 latest (high watermark, or the last stable offset under read_committed), -2 earliest, else
 * the first offset at or after a timestamp. v0 answers in the old style: a list holding that one offset.
 */

import {
  ApiKey,
  decodeListOffsetsRequest,
  ErrorCode,
  encodeListOffsetsResponse,
  type ListOffsetsPartitionResponse,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices, IsolationLevel } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function lookUp(
  services: BrokerServices,
  topic: string,
  partitionIndex: number,
  timestamp: number,
  maxNumOffsets: number,
  isolation: IsolationLevel,
): Promise<ListOffsetsPartitionResponse> {
  try {
    const found = await services.log.listOffset(topic, partitionIndex, timestamp, isolation);
    return {
      partitionIndex,
      errorCode: ErrorCode.NONE,
      oldStyleOffsets: found.offset >= 0 && maxNumOffsets > 0 ? [found.offset] : [],
      timestamp: found.timestamp,
      offset: found.offset,
    };
  } catch (error) {
    return {
      partitionIndex,
      errorCode: errorCodeFor(error, services, 'list offsets'),
      oldStyleOffsets: [],
      timestamp: -1,
      offset: -1,
    };
  }
}

async function handleListOffsets(
  ctx: RequestContext,
  request: ListOffsetsRequest,
  services: BrokerServices,
): Promise<ListOffsetsResponse> {
  const isolation: IsolationLevel = ctx.apiVersion >= 2 && request.isolationLevel === 1 ? 1 : 0;
  const topics = await Promise.all(
    request.topics.map(async (topic) => ({
      name: topic.name,
      partitions: await Promise.all(
        topic.partitions.map((p) =>
          lookUp(services, topic.name, p.partitionIndex, p.timestamp, p.maxNumOffsets, isolation),
        ),
      ),
    })),
  );
  return { throttleTimeMs: 0, topics };
}

export const listOffsetsHandler: ApiHandler<ListOffsetsRequest, ListOffsetsResponse> = {
  apiKey: ApiKey.ListOffsets,
  minVersion: 0,
  maxVersion: 3,
  decode: decodeListOffsetsRequest,
  handle: handleListOffsets,
  encode: encodeListOffsetsResponse,
  errorCode: (response) => {
    for (const topic of response.topics) {
      for (const p of topic.partitions) if (p.errorCode !== 0) return p.errorCode;
    }
    return 0;
  },
};
