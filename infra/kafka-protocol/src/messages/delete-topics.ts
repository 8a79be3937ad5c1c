/**
 * DeleteTopics (api key 20), versions 0..1.
 *
 * DeleteTopics Request (Version: 0..1) => [topic_names] timeout_ms
 *   topic_names => STRING
 *   timeout_ms => INT32
 *
 * DeleteTopics Response (Version: 0) => [responses]
 *   responses => name error_code
 *     name => STRING
 *     error_code => INT16
 *
 * DeleteTopics Response (Version: 1) => throttle_time_ms [responses]
 *   throttle_time_ms => INT32
 */
import type { Reader, Writer } from '../primitives';

export interface DeleteTopicsRequest {
  topicNames: string[];
  timeoutMs: number;
}

export interface DeletableTopicResult {
  name: string;
  errorCode: number;
}

export interface DeleteTopicsResponse {
  throttleTimeMs: number;
  responses: DeletableTopicResult[];
}

export function decodeDeleteTopicsRequest(reader: Reader, _version: number): DeleteTopicsRequest {
  const topicNames = reader.stringArray();
  return { topicNames, timeoutMs: reader.int32() };
}

export function encodeDeleteTopicsRequest(
  writer: Writer,
  request: DeleteTopicsRequest,
  _version: number,
): void {
  writer.stringArray(request.topicNames).int32(request.timeoutMs);
}

export function encodeDeleteTopicsResponse(
  writer: Writer,
  response: DeleteTopicsResponse,
  version: number,
): void {
  if (version >= 1) writer.int32(response.throttleTimeMs);
  writer.array(response.responses, (w, r) => {
    w.string(r.name).int16(r.errorCode);
  });
}

export function decodeDeleteTopicsResponse(reader: Reader, version: number): DeleteTopicsResponse {
  const throttleTimeMs = version >= 1 ? reader.int32() : 0;
  const responses = reader.array((r) => ({ name: r.string(), errorCode: r.int16() }));
  return { throttleTimeMs, responses };
}
