/**
 * OffsetCommit: stores the offsets through the group coordinator (negative offsets as given). v0 commits carry
 * no generation or member: they are commits from outside the group (generation -1, member '').
 */

import {
  ApiKey,
  decodeOffsetCommitRequest,
  encodeOffsetCommitResponse,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices, OffsetCommitEntry } from '../contracts';
import { errorCodeFor, resultsInRequestOrder } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleOffsetCommit(
  _ctx: RequestContext,
  request: OffsetCommitRequest,
  services: BrokerServices,
): Promise<OffsetCommitResponse> {
  const offsets: OffsetCommitEntry[] = [];
  for (const topic of request.topics) {
    for (const p of topic.partitions) {
      offsets.push({
        topic: topic.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        metadata: p.committedMetadata,
      });
    }
  }
  let results: { topic: string; partition: number; errorCode: number }[] | null = null;
  let fallback = 0;
  try {
    results = await services.groups.commitOffsets(
      request.groupId,
      request.generationIdOrMemberEpoch,
      request.memberId,
      offsets,
    );
  } catch (error) {
    fallback = errorCodeFor(error, services, 'offset commit');
  }
  return { throttleTimeMs: 0, topics: resultsInRequestOrder(request.topics, results, fallback) };
}

export const offsetCommitHandler: ApiHandler<OffsetCommitRequest, OffsetCommitResponse> = {
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 5,
  decode: decodeOffsetCommitRequest,
  handle: handleOffsetCommit,
  encode: encodeOffsetCommitResponse,
  errorCode: (response) => {
    for (const topic of response.topics) {
      for (const p of topic.partitions) if (p.errorCode !== 0) return p.errorCode;
    }
    return 0;
  },
};
