/**
 * FindCoordinator (api key 10), versions 0..2.
 *
 * FindCoordinator Request (Version: 0) => key
 *   key => STRING                          (the group id)
 *
 * FindCoordinator Request (Version: 1..2) => key key_type
 *   key_type => INT8                       (0 group, 1 transaction)
 *
 * FindCoordinator Response (Version: 0) => error_code node_id host port
 *   error_code => INT16
 *   node_id => INT32
 *   host => STRING
 *   port => INT32
 *
 * FindCoordinator Response (Version: 1..2) => throttle_time_ms error_code error_message node_id host port
 *   throttle_time_ms => INT32
 *   error_message => NULLABLE_STRING
 */
import type { Reader, Writer } from '../primitives';

export const CoordinatorKeyType = { GROUP: 0, TRANSACTION: 1 } as const;

export interface FindCoordinatorRequest {
  key: string;
  /** v1+; 0 (group) for v0. */
  keyType: number;
}

export interface FindCoordinatorResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

export function decodeFindCoordinatorRequest(reader: Reader, version: number): FindCoordinatorRequest {
  const key = reader.string();
  const keyType = version >= 1 ? reader.int8() : CoordinatorKeyType.GROUP;
  return { key, keyType };
}

export function encodeFindCoordinatorRequest(
  writer: Writer,
  request: FindCoordinatorRequest,
  version: number,
): void {
  writer.string(request.key);
  if (version >= 1) writer.int8(request.keyType);
}

export function encodeFindCoordinatorResponse(
  writer: Writer,
  response: FindCoordinatorResponse,
  version: number,
): void {
  if (version >= 1) writer.int32(response.throttleTimeMs);
  writer.int16(response.errorCode);
  if (version >= 1) writer.nullableString(response.errorMessage);
  writer.int32(response.nodeId).string(response.host).int32(response.port);
}

export function decodeFindCoordinatorResponse(reader: Reader, version: number): FindCoordinatorResponse {
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  const errorCode = reader.int16();
  const errorMessage = version >= 1 ? reader.nullableString() : null;
  return {
    throttleTimeMs,
    errorCode,
    errorMessage,
    nodeId: reader.int32(),
    host: reader.string(),
    port: reader.int32(),
  };
}
