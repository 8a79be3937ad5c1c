/**
 * Request and response headers.
 *
 *   Request Header (Version: 1) => request_api_key request_api_version correlation_id client_id
 *     request_api_key     => INT16
 *     request_api_version => INT16
 *     correlation_id      => INT32
 *     client_id           => NULLABLE_STRING
 *
 *   Request Header (Version: 2) => request_api_key request_api_version correlation_id client_id TAG_BUFFER
 *     (same fields; client_id keeps the INT16 length prefix even though the header is flexible, so that any
 *      broker can read the header of an ApiVersions request; a tagged-field section follows)
 *
 *   Response Header (Version: 0) => correlation_id
 *     correlation_id => INT32
 *
 * Header versions follow the API version: header v2 is used by flexible request versions, and of the versions
 * this broker serves only ApiVersions v3+ is flexible. The ApiVersions response always uses header v0 (clients
 * must be able to read it before they know which versions the broker speaks); every other response here is
 * non-flexible and uses header v0 too.
 */
import { ApiKey } from './api-keys';
import type { Reader, Writer } from './primitives';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** The request header version (1 or 2) for an API version. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {
  return apiKey === ApiKey.ApiVersions && apiVersion >= 3 ? 2 : 1;
}

/** The response header version; always 0 for the APIs and versions this broker serves. */
export function responseHeaderVersion(_apiKey: number, _apiVersion: number): 0 {
  return 0;
}

export function decodeRequestHeader(reader: Reader): RequestHeader {
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.nullableString();
  // A header v2 ends with a tag section. An ApiVersions request of a version newer than any this broker knows may
  // come with an old-style header and an empty body; it is still answered (UNSUPPORTED_VERSION), so a missing
  // tag section at the very end of the frame is tolerated.
  if (requestHeaderVersion(apiKey, apiVersion) === 2 && reader.remaining > 0) reader.skipTaggedFields();
  return { apiKey, apiVersion, correlationId, clientId };
}

export function encodeRequestHeader(writer: Writer, header: RequestHeader): void {
  writer
    .int16(header.apiKey)
    .int16(header.apiVersion)
    .int32(header.correlationId)
    .nullableString(header.clientId);
  if (requestHeaderVersion(header.apiKey, header.apiVersion) === 2) writer.emptyTaggedFields();
}

export function encodeResponseHeader(writer: Writer, correlationId: number): void {
  writer.int32(correlationId);
}

export function decodeResponseHeader(reader: Reader): { correlationId: number } {
  return { correlationId: reader.int32() };
}
