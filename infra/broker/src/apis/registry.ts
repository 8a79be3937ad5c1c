/**
 * The API handlers served by the broker, and the version ranges advertised through ApiVersions.
 *
 * A handler is decode -> handle -> encode for one API key. `handle` is called synchronously when the request
 * arrives (requests of one connection are dispatched in arrival order without waiting for each other); the
 * network layer writes the responses of one connection strictly in request order.
 */

import type { ApiVersionRange, Reader, Writer } from '@tidemark/kafka-protocol';
import type { BrokerServices } from '../contracts';
import { addOffsetsToTxnHandler } from './add-offsets-to-txn';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn';
import { createApiVersionsHandler } from './api-versions';
import { createTopicsHandler } from './create-topics';
import { deleteTopicsHandler } from './delete-topics';
import { describeGroupsHandler } from './describe-groups';
import { endTxnHandler } from './end-txn';
import { fetchHandler } from './fetch';
import { findCoordinatorHandler } from './find-coordinator';
import { heartbeatHandler } from './heartbeat';
import { initProducerIdHandler } from './init-producer-id';
import { joinGroupHandler } from './join-group';
import { leaveGroupHandler } from './leave-group';
import { listGroupsHandler } from './list-groups';
import { listOffsetsHandler } from './list-offsets';
import { metadataHandler } from './metadata';
import { offsetCommitHandler } from './offset-commit';
import { offsetFetchHandler } from './offset-fetch';
import { produceHandler } from './produce';
import { syncGroupHandler } from './sync-group';
import { txnOffsetCommitHandler } from './txn-offset-commit';

export interface RequestContext {
  clientId: string | null;
  /** The peer address as Kafka reports it ("/127.0.0.1"). */
  clientHost: string;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Aborted when the connection closes (or the server stops). */
  signal: AbortSignal;
}

export interface ApiHandler<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  decode(reader: Reader, version: number): Req;
  /** Resolves with the response, or null when no response is sent (Produce with acks=0). */
  handle(ctx: RequestContext, request: Req, services: BrokerServices): Promise<Res | null>;
  encode(writer: Writer, response: Res, version: number): void;
  /** The first non-zero error code of a response, or 0 (for metrics). */
  errorCode(response: Res): number;
}

function advertisedVersions(): ApiVersionRange[] {
  return apiHandlers.map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }));
}

export const apiVersionsHandler = createApiVersionsHandler(advertisedVersions);

/** Every handler, in api key order. */
export const apiHandlers: readonly ApiHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  syncGroupHandler,
  describeGroupsHandler,
  listGroupsHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  initProducerIdHandler,
  addPartitionsToTxnHandler,
  addOffsetsToTxnHandler,
  endTxnHandler,
  txnOffsetCommitHandler,
];

const byKey: (ApiHandler | undefined)[] = [];
for (const handler of apiHandlers) byKey[handler.apiKey] = handler;

/** The handler for an api key, or undefined when the key is not served. */
export function handlerFor(apiKey: number): ApiHandler | undefined {
  return apiKey >= 0 && apiKey < byKey.length ? byKey[apiKey] : undefined;
}

/** The advertised version range of every served API (the ApiVersions answer). */
export function supportedApiVersions(): ApiVersionRange[] {
  return advertisedVersions();
}
