/**
 * Fetch: reads each requested partition from the log store and, while fewer than min_bytes are available,
 * long-polls the store until max_wait_ms after arrival. No fetch sessions: session_id is always 0 and every
 * request is answered as a full fetch.
 *
 * Size limits follow KIP-74: the first partition with data may exceed the limits by one batch (the store returns
 * the first batch whole); later partitions only get whole batches that fit the response's remaining max_bytes.
 */

import {
  ApiKey,
  decodeFetchRequest,
  ErrorCode,
  encodeFetchResponse,
  type FetchableTopicResponse,
  type FetchPartitionData,
  type FetchRequest,
  type FetchResponse,
} from '@tidemark/kafka-protocol';
import type { BrokerServices, FetchPartitionResult, IsolationLevel, WaitPosition } from '../contracts';
import { errorCodeFor } from './common';
import type { ApiHandler, RequestContext } from './registry';

const EMPTY_RECORDS = Buffer.alloc(0);
/** Record batch v2: total size = 12 (baseOffset + batchLength) + batchLength at byte 8. */
const BATCH_LENGTH_OFFSET = 8;
const BATCH_OVERHEAD = 12;

interface Slot {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  out: FetchPartitionData;
}

function startRead(
  services: BrokerServices,
  slot: Slot,
  maxBytes: number,
  isolation: IsolationLevel,
): Promise<FetchPartitionResult> {
  try {
    return services.log.read(slot.topic, slot.partition, slot.fetchOffset, maxBytes, isolation);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The longest prefix of whole record batches of `records` that fits in `limit` bytes. */
function wholeBatchesWithin(records: Buffer, limit: number): number {
  let end = 0;
  while (end + BATCH_OVERHEAD <= records.length) {
    const size = BATCH_OVERHEAD + records.readInt32BE(end + BATCH_LENGTH_OFFSET);
    if (size <= BATCH_OVERHEAD || end + size > limit || end + size > records.length) break;
    end += size;
  }
  return end;
}

interface ReadOutcome {
  bytes: number;
  failed: boolean;
}

function setError(out: FetchPartitionData, code: number): void {
  out.errorCode = code;
  out.highWatermark = -1;
  out.lastStableOffset = -1;
  out.logStartOffset = -1;
  out.abortedTransactions = null;
  out.records = EMPTY_RECORDS;
}

/** Reads every partition (concurrently) and fills the response slots; returns the record bytes gathered. */
async function readAll(
  services: BrokerServices,
  slots: Slot[],
  responseMaxBytes: number,
  isolation: IsolationLevel,
): Promise<ReadOutcome> {
  const reads: Promise<FetchPartitionResult>[] = new Array(slots.length);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    reads[i] = startRead(services, slot, Math.min(slot.partitionMaxBytes, responseMaxBytes), isolation);
  }
  let settled: PromiseSettledResult<FetchPartitionResult>[];
  if (reads.length === 1) {
    try {
      settled = [{ status: 'fulfilled', value: await reads[0]! }];
    } catch (reason) {
      settled = [{ status: 'rejected', reason }];
    }
  } else {
    settled = await Promise.allSettled(reads);
  }

  let remaining = responseMaxBytes;
  let bytes = 0;
  let failed = false;
  for (let i = 0; i < slots.length; i++) {
    const out = slots[i]!.out;
    const outcome = settled[i]!;
    if (outcome.status === 'rejected') {
      setError(out, errorCodeFor(outcome.reason, services, 'fetch'));
      failed = true;
      continue;
    }
    const result = outcome.value;
    out.errorCode = ErrorCode.NONE;
    out.highWatermark = result.highWatermark;
    out.lastStableOffset = result.lastStableOffset;
    out.logStartOffset = result.logStartOffset;
    out.abortedTransactions = result.abortedTransactions;
    let records = result.records;
    if (records !== null && records.length > 0 && bytes > 0 && records.length > remaining) {
      // Not the first partition with data: keep only whole batches that fit what is left of max_bytes.
      const fit = remaining > 0 ? wholeBatchesWithin(records, remaining) : 0;
      records = fit > 0 ? records.subarray(0, fit) : null;
    }
    if (records === null || records.length === 0) {
      out.records = EMPTY_RECORDS;
      continue;
    }
    out.records = records;
    bytes += records.length;
    remaining -= records.length;
  }
  return { bytes, failed };
}

async function handleFetch(
  ctx: RequestContext,
  request: FetchRequest,
  services: BrokerServices,
): Promise<FetchResponse> {
  const arrival = Date.now();
  const isolation: IsolationLevel = request.isolationLevel === 1 ? 1 : 0;
  const responses: FetchableTopicResponse[] = new Array(request.topics.length);
  const slots: Slot[] = [];
  for (let t = 0; t < request.topics.length; t++) {
    const topic = request.topics[t]!;
    const partitions: FetchPartitionData[] = new Array(topic.partitions.length);
    for (let p = 0; p < topic.partitions.length; p++) {
      const fp = topic.partitions[p]!;
      const out: FetchPartitionData = {
        partitionIndex: fp.partition,
        errorCode: ErrorCode.NONE,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: EMPTY_RECORDS,
      };
      partitions[p] = out;
      slots.push({
        topic: topic.topic,
        partition: fp.partition,
        fetchOffset: fp.fetchOffset,
        partitionMaxBytes: fp.partitionMaxBytes,
        out,
      });
    }
    responses[t] = { topic: topic.topic, partitions };
  }

  const maxBytes = request.maxBytes > 0 ? request.maxBytes : 0x7fffffff;
  if (slots.length > 0) {
    let outcome = await readAll(services, slots, maxBytes, isolation);
    while (!outcome.failed && outcome.bytes < request.minBytes && !ctx.signal.aborted) {
      const left = arrival + request.maxWaitMs - Date.now();
      if (left <= 0) break;
      const waitFor: WaitPosition[] = slots.map((s) => ({
        topic: s.topic,
        partition: s.partition,
        seenEnd: isolation === 1 ? s.out.lastStableOffset : s.out.highWatermark,
      }));
      await services.log.waitForData(waitFor, left, ctx.signal, isolation);
      if (ctx.signal.aborted) break;
      outcome = await readAll(services, slots, maxBytes, isolation);
    }
  } else if (request.maxWaitMs > 0 && request.minBytes > 0) {
    // An empty fetch (e.g. every partition paused) still waits, as Kafka does.
    await services.log.waitForData([], request.maxWaitMs, ctx.signal);
  }

  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
}

function firstFetchError(response: FetchResponse): number {
  if (response.errorCode !== 0) return response.errorCode;
  for (const topic of response.responses) {
    for (const p of topic.partitions) if (p.errorCode !== 0) return p.errorCode;
  }
  return 0;
}

export const fetchHandler: ApiHandler<FetchRequest, FetchResponse> = {
  apiKey: ApiKey.Fetch,
  minVersion: 4,
  maxVersion: 11,
  decode: decodeFetchRequest,
  handle: handleFetch,
  encode: encodeFetchResponse,
  errorCode: firstFetchError,
};
