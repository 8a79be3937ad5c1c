/**
 * InitProducerId (api key 22), versions 0..1.
 *
 * InitProducerId Request (Version: 0..1) => transactional_id transaction_timeout_ms
 *   transactional_id => NULLABLE_STRING    (null: idempotent producer without transactions)
 *   transaction_timeout_ms => INT32
 *
 * InitProducerId Response (Version: 0..1) => throttle_time_ms error_code producer_id producer_epoch
 *   throttle_time_ms => INT32
 *   error_code => INT16
 *   producer_id => INT64
 *   producer_epoch => INT16
 */
import type { Reader, Writer } from '../primitives';

export interface InitProducerIdRequest {
  transactionalId: string | null;
  transactionTimeoutMs: number;
}

export interface InitProducerIdResponse {
  throttleTimeMs: number;
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export function decodeInitProducerIdRequest(reader: Reader, _version: number): InitProducerIdRequest {
  const transactionalId = reader.nullableString();
  return { transactionalId, transactionTimeoutMs: reader.int32() };
}

export function encodeInitProducerIdRequest(
  writer: Writer,
  request: InitProducerIdRequest,
  _version: number,
): void {
  writer.nullableString(request.transactionalId).int32(request.transactionTimeoutMs);
}

export function encodeInitProducerIdResponse(
  writer: Writer,
  response: InitProducerIdResponse,
  _version: number,
): void {
  writer.int32(response.throttleTimeMs).int16(response.errorCode).int64(response.producerId);
  writer.int16(response.producerEpoch);
}

export function decodeInitProducerIdResponse(reader: Reader, _version: number): InitProducerIdResponse {
  return {
    throttleTimeMs: reader.int32(),
    errorCode: reader.int16(),
    producerId: reader.int64(),
    producerEpoch: reader.int16(),
  };
}
