/** AddPartitionsToTxn: records the partitions in the producer's ongoing transaction. */

import {
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  ApiKey,
  decodeAddPartitionsToTxnRequest,
  encodeAddPartitionsToTxnResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices, TopicPartition } from '../contracts';
import { errorCodeFor, legacyTxnErrorCode, resultsInRequestOrder } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleAddPartitionsToTxn(
  _ctx: RequestContext,
  request: AddPartitionsToTxnRequest,
  services: BrokerServices,
): Promise<AddPartitionsToTxnResponse> {
  const partitions: TopicPartition[] = [];
  for (const t of request.topics)
    for (const p of t.partitions) partitions.push({ topic: t.name, partition: p });
  let results: { topic: string; partition: number; errorCode: number }[] | null = null;
  let failureCode = 0;
  try {
    results = await services.txns.addPartitionsToTxn(
      request.transactionalId,
      request.producerId,
      request.producerEpoch,
      partitions,
    );
  } catch (error) {
    failureCode = errorCodeFor(error, services, 'add partitions to txn');
  }
  const topics = resultsInRequestOrder(
    request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p })),
    })),
    results,
    failureCode,
  );
  return {
    throttleTimeMs: 0,
    resultsByTopic: topics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        partitionErrorCode: legacyTxnErrorCode(p.errorCode),
      })),
    })),
  };
}

export const addPartitionsToTxnHandler: ApiHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = {
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 1,
  decode: decodeAddPartitionsToTxnRequest,
  handle: handleAddPartitionsToTxn,
  encode: encodeAddPartitionsToTxnResponse,
  errorCode: (response) => {
    for (const t of response.resultsByTopic) {
      for (const p of t.resultsByPartition) if (p.partitionErrorCode !== 0) return p.partitionErrorCode;
    }
    return 0;
  },
};
