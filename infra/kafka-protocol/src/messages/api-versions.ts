/**
 * ApiVersions (api key 18), versions 0..3. v3 is the one flexible version served by this broker: its request
 * uses request header v2, compact strings and tagged-field sections, while its response keeps response
 * header v0 (see headers.ts).
 *
 * ApiVersions Request (Version: 0..2) => (no fields)
 *
 * ApiVersions Request (Version: 3) => client_software_name client_software_version TAG_BUFFER
 *   client_software_name => COMPACT_STRING
 *   client_software_version => COMPACT_STRING
 *
 * ApiVersions Response (Version: 0) => error_code [api_keys]
 *   error_code => INT16
 *   api_keys => api_key min_version max_version
 *     api_key => INT16
 *     min_version => INT16
 *     max_version => INT16
 *
 * ApiVersions Response (Version: 1..2) => error_code [api_keys] throttle_time_ms
 *   throttle_time_ms => INT32
 *
 * ApiVersions Response (Version: 3) => error_code [api_keys]<compact> throttle_time_ms TAG_BUFFER
 *   api_keys => api_key min_version max_version TAG_BUFFER
 *   (tagged fields 0..3 — supported/finalized features, zk migration — are never sent here)
 *
 * An UNSUPPORTED_VERSION (35) answer to an ApiVersions request of an unknown version is written in the v0
 * layout, so that any client can read the version list and retry.
 */
import type { Reader, Writer } from '../primitives';

export interface ApiVersionsRequest {
  /** v3+; '' below. */
  clientSoftwareName: string;
  /** v3+; '' below. */
  clientSoftwareVersion: string;
}

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: ApiVersionRange[];
  throttleTimeMs: number;
}

export function decodeApiVersionsRequest(reader: Reader, version: number): ApiVersionsRequest {
  if (version < 3) return { clientSoftwareName: '', clientSoftwareVersion: '' };
  const clientSoftwareName = reader.compactString();
  const clientSoftwareVersion = reader.compactString();
  reader.skipTaggedFields();
  return { clientSoftwareName, clientSoftwareVersion };
}

export function encodeApiVersionsRequest(writer: Writer, request: ApiVersionsRequest, version: number): void {
  if (version < 3) return;
  writer
    .compactString(request.clientSoftwareName)
    .compactString(request.clientSoftwareVersion)
    .emptyTaggedFields();
}

export function encodeApiVersionsResponse(
  writer: Writer,
  response: ApiVersionsResponse,
  version: number,
): void {
  writer.int16(response.errorCode);
  if (version >= 3) {
    writer.compactArrayLength(response.apiKeys.length);
    for (const api of response.apiKeys) {
      writer.int16(api.apiKey).int16(api.minVersion).int16(api.maxVersion).emptyTaggedFields();
    }
    writer.int32(response.throttleTimeMs).emptyTaggedFields();
    return;
  }
  writer.arrayLength(response.apiKeys.length);
  for (const api of response.apiKeys) writer.int16(api.apiKey).int16(api.minVersion).int16(api.maxVersion);
  if (version >= 1) writer.int32(response.throttleTimeMs);
}

export function decodeApiVersionsResponse(reader: Reader, version: number): ApiVersionsResponse {
  const errorCode = reader.int16();
  if (version >= 3) {
    const apiKeys = reader.compactArray((r) => {
      const range = { apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() };
      r.skipTaggedFields();
      return range;
    });
    const throttleTimeMs = reader.int32();
    reader.skipTaggedFields();
    return { errorCode, apiKeys, throttleTimeMs };
  }
  const apiKeys = reader.array((r) => ({ apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() }));
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  return { errorCode, apiKeys, throttleTimeMs };
}
