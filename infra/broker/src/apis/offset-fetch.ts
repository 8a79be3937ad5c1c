/**
 * OffsetFetch: committed offsets of a group (-1 and no metadata where nothing is committed). A null topic list
 * (v2+) returns every committed offset of the group. A coordinator failure is reported in the top-level error
 * code from v2 on, and in every partition for v1.
 */

import {
  ApiKey,
  decodeOffsetFetchRequest,
  ErrorCode,
  encodeOffsetFetchResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type OffsetFetchResponsePartition,
  type OffsetFetchResponseTopic,
} from '@tidemark/kafka-protocol';
import type { BrokerServices, CommittedOffset, TopicPartition } from '../contracts';
import { errorCodeFor, partitionKey } from './common';
import type { ApiHandler, RequestContext } from './registry';

function toPartition(offset: CommittedOffset): OffsetFetchResponsePartition {
  return {
    partitionIndex: offset.partition,
    committedOffset: offset.offset,
    committedLeaderEpoch: -1,
    metadata: offset.metadata,
    errorCode: offset.errorCode,
  };
}

function emptyPartition(partitionIndex: number, errorCode: number): OffsetFetchResponsePartition {
  return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: null, errorCode };
}

async function handleOffsetFetch(
  ctx: RequestContext,
  request: OffsetFetchRequest,
  services: BrokerServices,
): Promise<OffsetFetchResponse> {
  let wanted: TopicPartition[] | null = null;
  if (request.topics !== null) {
    wanted = [];
    for (const t of request.topics)
      for (const p of t.partitionIndexes) wanted.push({ topic: t.name, partition: p });
  }

  let committed: CommittedOffset[];
  try {
    committed = services.groups.fetchOffsets(request.groupId, wanted);
  } catch (error) {
    const code = errorCodeFor(error, services, 'offset fetch');
    if (ctx.apiVersion >= 2) return { throttleTimeMs: 0, topics: [], errorCode: code };
    const topics = (request.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => emptyPartition(p, code)),
    }));
    return { throttleTimeMs: 0, topics, errorCode: code };
  }

  let topics: OffsetFetchResponseTopic[];
  if (request.topics === null) {
    const byTopic = new Map<string, OffsetFetchResponsePartition[]>();
    for (const c of committed) {
      let list = byTopic.get(c.topic);
      if (!list) {
        list = [];
        byTopic.set(c.topic, list);
      }
      list.push(toPartition(c));
    }
    topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }));
  } else {
    const byKey = new Map<string, CommittedOffset>();
    for (const c of committed) byKey.set(partitionKey(c.topic, c.partition), c);
    topics = request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => {
        const found = byKey.get(partitionKey(t.name, p));
        return found ? toPartition(found) : emptyPartition(p, ErrorCode.NONE);
      }),
    }));
  }
  return { throttleTimeMs: 0, topics, errorCode: ErrorCode.NONE };
}

export const offsetFetchHandler: ApiHandler<OffsetFetchRequest, OffsetFetchResponse> = {
  apiKey: ApiKey.OffsetFetch,
  minVersion: 1,
  maxVersion: 5,
  decode: decodeOffsetFetchRequest,
  handle: handleOffsetFetch,
  encode: encodeOffsetFetchResponse,
  errorCode: (response) => {
    if (response.errorCode !== 0) return response.errorCode;
    for (const topic of response.topics) {
      for (const p of topic.partitions) if (p.errorCode !== 0) return p.errorCode;
    }
    return 0;
  },
};
