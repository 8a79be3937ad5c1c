/**
 * Produce (api key 0), versions 3..7. Record data stays an opaque byte view (record batches, magic 2).
 *
 * Produce Request (Version: 3..7) => transactional_id acks timeout_ms [topic_data]
 *   transactional_id => NULLABLE_STRING
 *   acks => INT16
 *   timeout_ms => INT32
 *   topic_data => name [partition_data]
 *     name => STRING
 *     partition_data => index records
 *       index => INT32
 *       records => NULLABLE_BYTES (RECORDS)
 *   (v4: same layout, may carry KafkaStorageException; v5: same; v6: same; v7: same, zstd allowed)
 *
 * Produce Response (Version: 3..4) => [responses] throttle_time_ms
 *   responses => name [partition_responses]
 *     name => STRING
 *     partition_responses => index error_code base_offset log_append_time_ms
 *       index => INT32
 *       error_code => INT16
 *       base_offset => INT64
 *       log_append_time_ms => INT64
 *   throttle_time_ms => INT32
 *
 * Produce Response (Version: 5..7) => [responses] throttle_time_ms
 *   responses => name [partition_responses]
 *     partition_responses => index error_code base_offset log_append_time_ms log_start_offset
 *       log_start_offset => INT64
 *   throttle_time_ms => INT32
 */
import type { Reader, Writer } from '../primitives';

export interface ProducePartitionData {
  index: number;
  records: Buffer | null;
}

export interface ProduceTopicData {
  name: string;
  partitionData: ProducePartitionData[];
}

export interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topicData: ProduceTopicData[];
}

export interface ProducePartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

export interface ProduceTopicResponse {
  name: string;
  partitionResponses: ProducePartitionResponse[];
}

export interface ProduceResponse {
  responses: ProduceTopicResponse[];
  throttleTimeMs: number;
}

export function decodeProduceRequest(reader: Reader, _version: number): ProduceRequest {
  const transactionalId = reader.nullableString();
  const acks = reader.int16();
  const timeoutMs = reader.int32();
  const topicCount = reader.arrayLength();
  const topicData: ProduceTopicData[] = new Array(Math.max(topicCount, 0));
  for (let t = 0; t < topicCount; t++) {
    const name = reader.string();
    const partitionCount = reader.arrayLength();
    const partitionData: ProducePartitionData[] = new Array(Math.max(partitionCount, 0));
    for (let p = 0; p < partitionCount; p++) {
      const index = reader.int32();
      partitionData[p] = { index, records: reader.nullableBytes() };
    }
    topicData[t] = { name, partitionData };
  }
  return { transactionalId, acks, timeoutMs, topicData };
}

export function encodeProduceRequest(writer: Writer, request: ProduceRequest, _version: number): void {
  writer.nullableString(request.transactionalId).int16(request.acks).int32(request.timeoutMs);
  writer.arrayLength(request.topicData.length);
  for (const topic of request.topicData) {
    writer.string(topic.name).arrayLength(topic.partitionData.length);
    for (const partition of topic.partitionData)
      writer.int32(partition.index).nullableBytes(partition.records);
  }
}

export function encodeProduceResponse(writer: Writer, response: ProduceResponse, version: number): void {
  writer.arrayLength(response.responses.length);
  for (const topic of response.responses) {
    writer.string(topic.name).arrayLength(topic.partitionResponses.length);
    for (const p of topic.partitionResponses) {
      writer.int32(p.index).int16(p.errorCode).int64(p.baseOffset).int64(p.logAppendTimeMs);
      if (version >= 5) writer.int64(p.logStartOffset);
    }
  }
  writer.int32(response.throttleTimeMs);
}

export function decodeProduceResponse(reader: Reader, version: number): ProduceResponse {
  const responses = reader.array((r) => ({
    name: r.string(),
    partitionResponses: r.array((rp) => ({
      index: rp.int32(),
      errorCode: rp.int16(),
      baseOffset: rp.int64(),
      logAppendTimeMs: rp.int64(),
      logStartOffset: version >= 5 ? rp.int64() : -1,
    })),
  }));
  return { responses, throttleTimeMs: reader.int32() };
}
