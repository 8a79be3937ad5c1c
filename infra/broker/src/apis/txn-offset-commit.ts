/** TxnOffsetCommit: offsets kept pending in the transaction until it commits. */

import {
  ApiKey,
  decodeTxnOffsetCommitRequest,
  encodeTxnOffsetCommitResponse,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices, OffsetCommitEntry } from '../contracts';
import { errorCodeFor, legacyTxnErrorCode, resultsInRequestOrder } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleTxnOffsetCommit(
  _ctx: RequestContext,
  request: TxnOffsetCommitRequest,
  services: BrokerServices,
): Promise<TxnOffsetCommitResponse> {
  const offsets: OffsetCommitEntry[] = [];
  for (const t of request.topics) {
    for (const p of t.partitions) {
      offsets.push({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        metadata: p.committedMetadata,
      });
    }
  }
  let results: { topic: string; partition: number; errorCode: number }[] | null = null;
  let failureCode = 0;
  try {
    results = await services.txns.txnOffsetCommit({
      transactionalId: request.transactionalId,
      groupId: request.groupId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      offsets,
    });
  } catch (error) {
    failureCode = errorCodeFor(error, services, 'txn offset commit');
  }
  const topics = resultsInRequestOrder(request.topics, results, failureCode);
  for (const t of topics) for (const p of t.partitions) p.errorCode = legacyTxnErrorCode(p.errorCode);
  return { throttleTimeMs: 0, topics };
}

export const txnOffsetCommitHandler: ApiHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = {
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 1,
  decode: decodeTxnOffsetCommitRequest,
  handle: handleTxnOffsetCommit,
  encode: encodeTxnOffsetCommitResponse,
  errorCode: (response) => {
    for (const t of response.topics) for (const p of t.partitions) if (p.errorCode !== 0) return p.errorCode;
    return 0;
  },
};
