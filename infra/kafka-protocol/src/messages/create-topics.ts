/**
 * CreateTopics (api key 19), versions 0..3.
 *
 * CreateTopics Request (Version: 0) => [topics] timeout_ms
 *   topics => name num_partitions replication_factor [assignments] [configs]
 *     name => STRING
 *     num_partitions => INT32              (-1: broker default, or taken from assignments)
 *     replication_factor => INT16          (-1: broker default)
 *     assignments => partition_index [broker_ids]
 *       partition_index => INT32
 *       broker_ids => INT32
 *     configs => name value
 *       name => STRING
 *       value => NULLABLE_STRING
 *   timeout_ms => INT32
 *
 * CreateTopics Request (Version: 1..3) => [topics] timeout_ms validate_only
 *   validate_only => BOOLEAN
 *
 * CreateTopics Response (Version: 0) => [topics]
 *   topics => name error_code
 *     name => STRING
 *     error_code => INT16
 *
 * CreateTopics Response (Version: 1) => [topics]
 *   topics => name error_code error_message
 *     error_message => NULLABLE_STRING
 *
 * CreateTopics Response (Version: 2..3) => throttle_time_ms [topics]
 *   throttle_time_ms => INT32
 */
import type { Reader, Writer } from '../primitives';

export interface CreatableReplicaAssignment {
  partitionIndex: number;
  brokerIds: number[];
}

export interface CreatableTopicConfig {
  name: string;
  value: string | null;
}

export interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: CreatableReplicaAssignment[];
  configs: CreatableTopicConfig[];
}

export interface CreateTopicsRequest {
  topics: CreatableTopic[];
  timeoutMs: number;
  /** v1+; false for v0. */
  validateOnly: boolean;
}

export interface CreatableTopicResult {
  name: string;
  errorCode: number;
  /** v1+. */
  errorMessage: string | null;
}

export interface CreateTopicsResponse {
  throttleTimeMs: number;
  topics: CreatableTopicResult[];
}

export function decodeCreateTopicsRequest(reader: Reader, version: number): CreateTopicsRequest {
  const topics = reader.array((r) => ({
    name: r.string(),
    numPartitions: r.int32(),
    replicationFactor: r.int16(),
    assignments: r.array((ra) => ({ partitionIndex: ra.int32(), brokerIds: ra.int32Array() })),
    configs: r.array((rc) => ({ name: rc.string(), value: rc.nullableString() })),
  }));
  const timeoutMs = reader.int32();
  const validateOnly = version >= 1 ? reader.boolean() : false;
  return { topics, timeoutMs, validateOnly };
}

export function encodeCreateTopicsRequest(
  writer: Writer,
  request: CreateTopicsRequest,
  version: number,
): void {
  writer.array(request.topics, (w, t) => {
    w.string(t.name).int32(t.numPartitions).int16(t.replicationFactor);
    w.array(t.assignments, (wa, a) => {
      wa.int32(a.partitionIndex).int32Array(a.brokerIds);
    });
    w.array(t.configs, (wc, c) => {
      wc.string(c.name).nullableString(c.value);
    });
  });
  writer.int32(request.timeoutMs);
  if (version >= 1) writer.boolean(request.validateOnly);
}

export function encodeCreateTopicsResponse(
  writer: Writer,
  response: CreateTopicsResponse,
  version: number,
): void {
  if (version >= 2) writer.int32(response.throttleTimeMs);
  writer.array(response.topics, (w, t) => {
    w.string(t.name).int16(t.errorCode);
    if (version >= 1) w.nullableString(t.errorMessage);
  });
}

export function decodeCreateTopicsResponse(reader: Reader, version: number): CreateTopicsResponse {
  const throttleTimeMs = version >= 2 ? reader.int32() : 0;
  const topics = reader.array((r) => ({
    name: r.string(),
    errorCode: r.int16(),
    errorMessage: version >= 1 ? r.nullableString() : null,
  }));
  return { throttleTimeMs, topics };
}
