/** InitProducerId: a producer id and epoch from the transaction coordinator. */

import {
  ApiKey,
  decodeInitProducerIdRequest,
  encodeInitProducerIdResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { errorCodeFor, legacyTxnErrorCode } from './common';
import type { ApiHandler, RequestContext } from './registry';

async function handleInitProducerId(
  _ctx: RequestContext,
  request: InitProducerIdRequest,
  services: BrokerServices,
): Promise<InitProducerIdResponse> {
  try {
    const out = await services.txns.initProducerId(request.transactionalId, request.transactionTimeoutMs);
    return {
      throttleTimeMs: 0,
      errorCode: legacyTxnErrorCode(out.errorCode),
      producerId: out.producerId,
      producerEpoch: out.producerEpoch,
    };
  } catch (error) {
    return {
      throttleTimeMs: 0,
      errorCode: legacyTxnErrorCode(errorCodeFor(error, services, 'init producer id')),
      producerId: -1,
      producerEpoch: -1,
    };
  }
}

export const initProducerIdHandler: ApiHandler<InitProducerIdRequest, InitProducerIdResponse> = {
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 1,
  decode: decodeInitProducerIdRequest,
  handle: handleInitProducerId,
  encode: encodeInitProducerIdResponse,
  errorCode: (response) => response.errorCode,
};
