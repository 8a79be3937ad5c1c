/** Helpers shared by the API handlers. */

import { ErrorCode, KafkaError } from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';

/** The error code for a failure; unexpected (non-Kafka) errors are logged and become UNKNOWN_SERVER_ERROR. */
export function errorCodeFor(error: unknown, services: BrokerServices, what: string): number {
  if (error instanceof KafkaError) return error.code;
  services.logger.error({ err: error }, `${what} failed unexpectedly`);
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/**
 * Transaction API versions served here (InitProducerId < 4, transaction APIs < 2) predate PRODUCER_FENCED;
 * Kafka answers fencing with INVALID_PRODUCER_EPOCH there, which kafkajs understands.
 */
export function legacyTxnErrorCode(code: number): number {
  return code === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
}

/** A key for a (topic, partition) pair in maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/**
 * Builds a per-topic response from per-partition results, in request order. `failureCode` applies to every
 * partition when there are no results (the whole call failed); a partition missing from the results gets
 * UNKNOWN_SERVER_ERROR.
 */
export function resultsInRequestOrder(
  topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[],
  results: readonly { topic: string; partition: number; errorCode: number }[] | null,
  failureCode: number,
): { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] {
  const byKey = new Map<string, number>();
  if (results !== null) for (const r of results) byKey.set(partitionKey(r.topic, r.partition), r.errorCode);
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partitionIndex,
      errorCode:
        results === null
          ? failureCode
          : (byKey.get(partitionKey(t.name, p.partitionIndex)) ?? ErrorCode.UNKNOWN_SERVER_ERROR),
    })),
  }));
}
