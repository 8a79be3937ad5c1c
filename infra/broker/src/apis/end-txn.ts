/** EndTxn: commits or aborts the producer's transaction (markers written by the transaction coordinator). */

import {
  ApiKey,
  decodeEndTxnRequest,
  type EndTxnRequest,
  type EndTxnResponse,
  encodeEndTxnResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor, legacyTxnErrorCode } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleEndTxn(
  _ctx: RequestContext,
  request: EndTxnRequest,
  services: BrokerServices,
): Promise<EndTxnResponse> {
  let errorCode: number;
  try {
    errorCode = await services.txns.endTxn(
      request.transactionalId,
      request.producerId,
      request.producerEpoch,
      request.committed,
    );
  } catch (error) {
    errorCode = errorCodeFor(error, services, 'end txn');
  }
  return { throttleTimeMs: 0, errorCode: legacyTxnErrorCode(errorCode) };
}

export const endTxnHandler: ApiHandler<EndTxnRequest, EndTxnResponse> = {
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 1,
  decode: decodeEndTxnRequest,
  handle: handleEndTxn,
  encode: encodeEndTxnResponse,
  errorCode: (response) => response.errorCode,
};
