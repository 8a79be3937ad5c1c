/**
 * AddOffsetsToTxn (api key 25), versions 0..1.
 *
 * AddOffsetsToTxn Request (Version: 0..1) => transactional_id producer_id producer_epoch group_id
 *   transactional_id => STRING
 *   producer_id => INT64
 *   producer_epoch => INT16
 *   group_id => STRING
 *
 * AddOffsetsToTxn Response (Version: 0..1) => throttle_time_ms error_code
 *   throttle_time_ms => INT32
 *   error_code => INT16
 */
import type { Reader, Writer } from '../primitives';

export interface AddOffsetsToTxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  groupId: string;
}

export interface AddOffsetsToTxnResponse {
  throttleTimeMs: number;
  errorCode: number;
}

export function decodeAddOffsetsToTxnRequest(reader: Reader, _version: number): AddOffsetsToTxnRequest {
  const transactionalId = reader.string();
  const producerId = reader.int64();
  const producerEpoch = reader.int16();
  return { transactionalId, producerId, producerEpoch, groupId: reader.string() };
}

export function encodeAddOffsetsToTxnRequest(
  writer: Writer,
  request: AddOffsetsToTxnRequest,
  _version: number,
): void {
  writer.string(request.transactionalId).int64(request.producerId).int16(request.producerEpoch);
  writer.string(request.groupId);
}

export function encodeAddOffsetsToTxnResponse(
  writer: Writer,
  response: AddOffsetsToTxnResponse,
  _version: number,
): void {
  writer.int32(response.throttleTimeMs).int16(response.errorCode);
}

export function decodeAddOffsetsToTxnResponse(reader: Reader, _version: number): AddOffsetsToTxnResponse {
  return { throttleTimeMs: reader.int32(), errorCode: reader.int16() };
}
