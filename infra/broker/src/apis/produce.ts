/**
 * Produce: hands each partition's record batches to the log store. Every append is started synchronously, in
 * request order, before the first await (the store orders appends per partition by call order).
 */

import {
  ApiKey,
  decodeProduceRequest,
  ErrorCode,
  encodeProduceResponse,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceTopicResponse,
} from '@tidemark/kafka-protocol';
import type { AppendOptions, AppendResult, BrokerServices } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

function startAppend(
  services: BrokerServices,
  topic: string,
  partition: number,
  records: Buffer,
  options: AppendOptions,
): Promise<AppendResult> {
  try {
    return services.log.append(topic, partition, records, options);
  } catch (error) {
    return Promise.reject(error);
  }
}

function applyResult(target: ProducePartitionResponse, result: AppendResult): void {
  target.baseOffset = result.baseOffset;
  target.logAppendTimeMs = result.logAppendTimeMs;
  target.logStartOffset = result.logStartOffset;
}

async function handleProduce(
  _ctx: RequestContext,
  request: ProduceRequest,
  services: BrokerServices,
): Promise<ProduceResponse | null> {
  const acks = request.acks;
  const acksValid = acks === 0 || acks === 1 || acks === -1;
  const options: AppendOptions = { acks, transactionalId: request.transactionalId };
  const responses: ProduceTopicResponse[] = new Array(request.topicData.length);
  const pending: Promise<AppendResult>[] = [];
  const targets: ProducePartitionResponse[] = [];

  for (let t = 0; t < request.topicData.length; t++) {
    const topic = request.topicData[t]!;
    const partitionResponses: ProducePartitionResponse[] = new Array(topic.partitionData.length);
    for (let p = 0; p < topic.partitionData.length; p++) {
      const data = topic.partitionData[p]!;
      const out: ProducePartitionResponse = {
        index: data.index,
        errorCode: ErrorCode.NONE,
        baseOffset: -1,
        logAppendTimeMs: -1,
        logStartOffset: -1,
      };
      partitionResponses[p] = out;
      if (!acksValid) {
        out.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
      } else if (data.records === null || data.records.length === 0) {
        // Kafka requires exactly one record batch per partition from v3 on.
        out.errorCode = ErrorCode.INVALID_RECORD;
      } else {
        pending.push(startAppend(services, topic.name, data.index, data.records, options));
        targets.push(out);
      }
    }
    responses[t] = { name: topic.name, partitionResponses };
  }

  if (pending.length === 1) {
    const target = targets[0]!;
    try {
      applyResult(target, await pending[0]!);
    } catch (error) {
      target.errorCode = errorCodeFor(error, services, 'produce');
    }
  } else if (pending.length > 1) {
    const settled = await Promise.allSettled(pending);
    for (let i = 0; i < settled.length; i++) {
      const outcome = settled[i]!;
      const target = targets[i]!;
      if (outcome.status === 'fulfilled') applyResult(target, outcome.value);
      else target.errorCode = errorCodeFor(outcome.reason, services, 'produce');
    }
  }

  if (acks === 0) return null;
  return { responses, throttleTimeMs: 0 };
}

function firstProduceError(response: ProduceResponse): number {
  for (const topic of response.responses) {
    for (const p of topic.partitionResponses) if (p.errorCode !== 0) return p.errorCode;
  }
  return 0;
}

export const produceHandler: ApiHandler<ProduceRequest, ProduceResponse> = {
  apiKey: ApiKey.Produce,
  minVersion: 3,
  maxVersion: 7,
  decode: decodeProduceRequest,
  handle: handleProduce,
  encode: encodeProduceResponse,
  errorCode: firstProduceError,
};
