/**
 * Metadata (api key 3), versions 1..6.
 *
 * Metadata Request (Version: 1..3) => [topics]
 *   topics => name                         (NULLABLE array: null = every topic)
 *     name => STRING
 *
 * Metadata Request (Version: 4..6) => [topics] allow_auto_topic_creation
 *   allow_auto_topic_creation => BOOLEAN
 *
 * Metadata Response (Version: 1..6) => throttle_time_ms [brokers] cluster_id controller_id [topics]
 *   throttle_time_ms => INT32              (v3+)
 *   brokers => node_id host port rack
 *     node_id => INT32
 *     host => STRING
 *     port => INT32
 *     rack => NULLABLE_STRING
 *   cluster_id => NULLABLE_STRING          (v2+)
 *   controller_id => INT32
 *   topics => error_code name is_internal [partitions]
 *     error_code => INT16
 *     name => STRING
 *     is_internal => BOOLEAN
 *     partitions => error_code partition_index leader_id [replica_nodes] [isr_nodes] [offline_replicas]
 *       error_code => INT16
 *       partition_index => INT32
 *       leader_id => INT32
 *       replica_nodes => INT32
 *       isr_nodes => INT32
 *       offline_replicas => INT32          (v5+)
 */
import type { Reader, Writer } from '../primitives';

export interface MetadataRequest {
  /** null: every topic. */
  topics: { name: string }[] | null;
  /** v4+; true below. */
  allowAutoTopicCreation: boolean;
}

export interface MetadataResponseBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface MetadataResponsePartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
}

export interface MetadataResponseTopic {
  errorCode: number;
  name: string;
  isInternal: boolean;
  partitions: MetadataResponsePartition[];
}

export interface MetadataResponse {
  throttleTimeMs: number;
  brokers: MetadataResponseBroker[];
  clusterId: string | null;
  controllerId: number;
  topics: MetadataResponseTopic[];
}

export function decodeMetadataRequest(reader: Reader, version: number): MetadataRequest {
  const topics = reader.nullableArray((r) => ({ name: r.string() }));
  const allowAutoTopicCreation = version >= 4 ? reader.boolean() : true;
  return { topics, allowAutoTopicCreation };
}

export function encodeMetadataRequest(writer: Writer, request: MetadataRequest, version: number): void {
  writer.nullableArray(request.topics, (w, t) => {
    w.string(t.name);
  });
  if (version >= 4) writer.boolean(request.allowAutoTopicCreation);
}

export function encodeMetadataResponse(writer: Writer, response: MetadataResponse, version: number): void {
  if (version >= 3) writer.int32(response.throttleTimeMs);
  writer.array(response.brokers, (w, b) => {
    w.int32(b.nodeId).string(b.host).int32(b.port).nullableString(b.rack);
  });
  if (version >= 2) writer.nullableString(response.clusterId);
  writer.int32(response.controllerId);
  writer.array(response.topics, (w, t) => {
    w.int16(t.errorCode).string(t.name).boolean(t.isInternal);
    w.array(t.partitions, (wp, p) => {
      wp.int16(p.errorCode).int32(p.partitionIndex).int32(p.leaderId);
      wp.int32Array(p.replicaNodes).int32Array(p.isrNodes);
      if (version >= 5) wp.int32Array(p.offlineReplicas);
    });
  });
}

export function decodeMetadataResponse(reader: Reader, version: number): MetadataResponse {
  const throttleTimeMs = version >= 3 ? reader.int32() : 0;
  const brokers = reader.array((r) => ({
    nodeId: r.int32(),
    host: r.string(),
    port: r.int32(),
    rack: r.nullableString(),
  }));
  const clusterId = version >= 2 ? reader.nullableString() : null;
  const controllerId = reader.int32();
  const topics = reader.array((r) => ({
    errorCode: r.int16(),
    name: r.string(),
    isInternal: r.boolean(),
    partitions: r.array((rp) => ({
      errorCode: rp.int16(),
      partitionIndex: rp.int32(),
      leaderId: rp.int32(),
      replicaNodes: rp.int32Array(),
      isrNodes: rp.int32Array(),
      offlineReplicas: version >= 5 ? rp.int32Array() : [],
    })),
  }));
  return { throttleTimeMs, brokers, clusterId, controllerId, topics };
}
