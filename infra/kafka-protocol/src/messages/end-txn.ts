/**
 * EndTxn (api key 26), versions 0..1.
 *
 * EndTxn Request (Version: 0..1) => transactional_id producer_id producer_epoch committed
 *   transactional_id => STRING
 *   producer_id => INT64
 *   producer_epoch => INT16
 *   committed => BOOLEAN                   (true commit, false abort)
 *
 * EndTxn Response (Version: 0..1) => throttle_time_ms error_code
 *   throttle_time_ms => INT32
 *   error_code => INT16
 */
import type { Reader, Writer } from '../primitives';

export interface EndTxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  committed: boolean;
}

export interface EndTxnResponse {
  throttleTimeMs: number;
  errorCode: number;
}

export function decodeEndTxnRequest(reader: Reader, _version: number): EndTxnRequest {
  const transactionalId = reader.string();
  const producerId = reader.int64();
  const producerEpoch = reader.int16();
  return { transactionalId, producerId, producerEpoch, committed: reader.boolean() };
}

export function encodeEndTxnRequest(writer: Writer, request: EndTxnRequest, _version: number): void {
  writer.string(request.transactionalId).int64(request.producerId).int16(request.producerEpoch);
  writer.boolean(request.committed);
}

export function encodeEndTxnResponse(writer: Writer, response: EndTxnResponse, _version: number): void {
  writer.int32(response.throttleTimeMs).int16(response.errorCode);
}

export function decodeEndTxnResponse(reader: Reader, _version: number): EndTxnResponse {
  return { throttleTimeMs: reader.int32(), errorCode: reader.int16() };
}
