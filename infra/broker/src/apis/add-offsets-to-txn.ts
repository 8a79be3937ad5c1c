/** AddOffsetsToTxn: adds the group's offsets partition to the producer's ongoing transaction. */

import {
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  ApiKey,
  decodeAddOffsetsToTxnRequest,
  encodeAddOffsetsToTxnResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor, legacyTxnErrorCode } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleAddOffsetsToTxn(
  _ctx: RequestContext,
  request: AddOffsetsToTxnRequest,
  services: BrokerServices,
): Promise<AddOffsetsToTxnResponse> {
  let errorCode: number;
  try {
    errorCode = await services.txns.addOffsetsToTxn(
      request.transactionalId,
      request.producerId,
      request.producerEpoch,
      request.groupId,
    );
  } catch (error) {
    errorCode = errorCodeFor(error, services, 'add offsets to txn');
  }
  return { throttleTimeMs: 0, errorCode: legacyTxnErrorCode(errorCode) };
}

export const addOffsetsToTxnHandler: ApiHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = {
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 1,
  decode: decodeAddOffsetsToTxnRequest,
  handle: handleAddOffsetsToTxn,
  encode: encodeAddOffsetsToTxnResponse,
  errorCode: (response) => response.errorCode,
};
