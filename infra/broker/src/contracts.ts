/**
 * Contracts between the broker's layers.
 *
 *   (codecs)   pure codecs (no sockets, no state): the @tidemark/kafka-protocol package
 *   storage/   partition logs on disk, topic registry, journals        (implements LogStore, TopicRegistry)
 *   coordinator/ consumer groups and transactions                      (implements GroupCoordinator, TransactionCoordinator)
 *   apis/      one handler per Kafka API: decode -> call the contracts below -> encode
 *   network/   TCP framing and dispatch to apis/
 *   server/    composition, lifecycle, metrics endpoint, CLI
 *
 * All int64 values (offsets, producer ids, timestamps) are JS numbers: they stay far below 2^53 here.
 * Operations fail by throwing KafkaError (error-codes.ts of @tidemark/kafka-protocol) unless the signature returns
 * error codes.
 */
import type { Logger } from 'pino';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface BrokerConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  nodeId: number;
  clusterId: string;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  /** Largest request frame accepted; a larger one closes the connection. */
  maxFrameBytes: number;
  /** Roll a new segment file once the active one exceeds this size. */
  segmentBytes: number;
  /** Retention: delete whole old segments while the partition exceeds this size (null: keep). */
  retentionBytes: number | null;
  /** Retention: delete whole segments whose newest record is older than this (null: keep). */
  retentionMs: number | null;
  /** Delay before the first rebalance of an empty group completes, to gather members. */
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  transactionMaxTimeoutMs: number;
  /** How often expired transactions are looked for. */
  transactionAbortCheckIntervalMs: number;
}

// ---------------------------------------------------------------- topics

export interface TopicMetadata {
  name: string;
  /** Stable identity (uuid): a deleted and recreated topic gets a new one. */
  topicId: string;
  partitionCount: number;
  configs: Record<string, string>;
  createdAtMs: number;
}

export interface TopicRegistry {
  list(): TopicMetadata[];
  get(name: string): TopicMetadata | undefined;
  /**
   * Creates the topic and its partition directories durably.
   * Throws TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS (count < 1), INVALID_TOPIC_EXCEPTION (bad name:
   * empty, > 249 chars, chars outside [a-zA-Z0-9._-], "." or ".."), INVALID_REPLICATION_FACTOR (not -1 or 1).
   */
  create(
    name: string,
    partitionCount: number,
    options?: { replicationFactor?: number; configs?: Record<string, string>; validateOnly?: boolean },
  ): Promise<TopicMetadata>;
  /** Deletes the topic and its data. Throws UNKNOWN_TOPIC_OR_PARTITION. */
  delete(name: string): Promise<void>;
}

// ---------------------------------------------------------------- partition logs

export type IsolationLevel = 0 | 1; // 0 read_uncommitted, 1 read_committed

export interface AppendOptions {
  /** acks from the Produce request (0, 1 or -1). acks != 0 waits for fsync (group commit). */
  acks: number;
  /** transactional_id from the Produce request (null when not transactional). */
  transactionalId: string | null;
}

export interface AppendResult {
  baseOffset: number;
  /** -1: CreateTime is used. */
  logAppendTimeMs: number;
  logStartOffset: number;
}

export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

export interface FetchPartitionResult {
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** null for read_uncommitted. */
  abortedTransactions: AbortedTransaction[] | null;
  /** Whole record batches as stored, concatenated; null when there is nothing to return. */
  records: Buffer | null;
}

export interface WaitPosition extends TopicPartition {
  /** The readable end the caller saw at its last read (see LogStore.waitForData). */
  seenEnd?: number;
}

export interface PartitionStats {
  topic: string;
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  sizeBytes: number;
  segmentCount: number;
}

export interface LogStore {
  /**
   * Validates the record batches of one Produce partition entry (magic 2, CRC-32C, lastOffsetDelta + 1 ==
   * recordCount, no control bit, producer epoch and sequence), assigns offsets, appends them as received
   * (only baseOffset and partitionLeaderEpoch rewritten) and, for acks != 0, resolves only once the bytes are
   * fsynced. An exact duplicate of one of the producer's last 5 batches resolves with its original offsets.
   * Throws UNKNOWN_TOPIC_OR_PARTITION, CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE,
   * INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER.
   */
  append(topic: string, partition: number, records: Buffer, options: AppendOptions): Promise<AppendResult>;

  /**
   * Writes a transaction marker (control batch) for producerId/epoch, ends the producer's open transaction
   * on this partition and, for an abort, records the aborted range. Resolves once fsynced.
   */
  writeTxnMarker(
    topic: string,
    partition: number,
    marker: { producerId: number; producerEpoch: number; commit: boolean; coordinatorEpoch: number },
  ): Promise<void>;

  /**
   * Reads whole batches from fetchOffset on: the first batch whose last offset >= fetchOffset, then following
   * batches while the total stays <= maxBytes (the first batch is returned even if larger). Under
   * read_committed nothing at or above the last stable offset is returned. Throws UNKNOWN_TOPIC_OR_PARTITION,
   * OFFSET_OUT_OF_RANGE (fetchOffset < logStartOffset or > highWatermark).
   */
  read(
    topic: string,
    partition: number,
    fetchOffset: number,
    maxBytes: number,
    isolation: IsolationLevel,
  ): Promise<FetchPartitionResult>;

  /**
   * Resolves when any of the partitions gets new data or a moved last stable offset, when the timeout passes,
   * or when the signal aborts; never rejects. Used by Fetch long polls. A partition whose readable end (high
   * watermark, or last stable offset under read_committed) already differs from the `seenEnd` the caller read
   * ends the wait at once, so data that lands between a read and the wait is never slept through.
   */
  waitForData(
    partitions: WaitPosition[],
    timeoutMs: number,
    signal?: AbortSignal,
    isolation?: IsolationLevel,
  ): Promise<void>;

  /**
   * ListOffsets: timestamp -1 = latest (high watermark, or last stable offset under read_committed),
   * -2 = earliest (log start offset), otherwise the first offset whose record timestamp >= timestamp
   * (offset -1, timestamp -1 when there is none). Throws UNKNOWN_TOPIC_OR_PARTITION.
   */
  listOffset(
    topic: string,
    partition: number,
    timestamp: number,
    isolation: IsolationLevel,
  ): Promise<{ offset: number; timestamp: number }>;

  stats(): PartitionStats[];
}

// ---------------------------------------------------------------- consumer groups

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface JoinGroupInput {
  groupId: string;
  sessionTimeoutMs: number;
  /** JoinGroup v0 has none: use sessionTimeoutMs. */
  rebalanceTimeoutMs: number;
  /** '' for a new member. */
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  clientId: string;
  clientHost: string;
}

export interface JoinGroupOutput {
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  /** Filled for the leader only. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  /** Stored as given, negative values included (kafkajs commits -1/-2 on out-of-range). */
  offset: number;
  metadata: string | null;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1 when nothing is committed. */
  offset: number;
  metadata: string | null;
  errorCode: number;
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  state: GroupState;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface GroupCoordinator {
  /** Resolves when the join phase completes (or immediately with an error code). */
  joinGroup(input: JoinGroupInput): Promise<JoinGroupOutput>;
  /** Followers wait for the leader's assignment; resolves with this member's assignment. */
  syncGroup(input: {
    groupId: string;
    generationId: number;
    memberId: string;
    groupInstanceId: string | null;
    assignments: { memberId: string; assignment: Buffer }[];
  }): Promise<{ errorCode: number; assignment: Buffer }>;
  heartbeat(input: {
    groupId: string;
    generationId: number;
    memberId: string;
    groupInstanceId: string | null;
  }): number;
  leaveGroup(
    groupId: string,
    members: { memberId: string; groupInstanceId: string | null }[],
  ): {
    errorCode: number;
    members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
  };
  /** Durable before it resolves. generationId -1 with memberId '' is a commit from outside the group. */
  commitOffsets(
    groupId: string,
    generationId: number,
    memberId: string,
    offsets: OffsetCommitEntry[],
  ): Promise<{ topic: string; partition: number; errorCode: number }[]>;
  /** partitions null: every committed offset of the group. */
  fetchOffsets(groupId: string, partitions: TopicPartition[] | null): CommittedOffset[];
  describeGroup(groupId: string): GroupDescription;
  listGroups(): { groupId: string; protocolType: string; state: GroupState }[];
  /** Offsets committed by a transaction become visible atomically (called by the transaction coordinator). */
  applyTxnOffsets(groupId: string, offsets: OffsetCommitEntry[]): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- transactions

export type TransactionState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'
  | 'Dead';

export interface TransactionCoordinator {
  /**
   * transactionalId null: a fresh idempotent producer id with epoch 0. Otherwise allocate on first sight, or
   * bump the epoch (fencing the previous holder), aborting an open transaction first (markers written).
   * Throws INVALID_TRANSACTION_TIMEOUT.
   */
  initProducerId(
    transactionalId: string | null,
    transactionTimeoutMs: number,
  ): Promise<{ errorCode: number; producerId: number; producerEpoch: number }>;
  addPartitionsToTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: TopicPartition[],
  ): Promise<{ topic: string; partition: number; errorCode: number }[]>;
  addOffsetsToTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ): Promise<number>;
  txnOffsetCommit(input: {
    transactionalId: string;
    groupId: string;
    producerId: number;
    producerEpoch: number;
    offsets: OffsetCommitEntry[];
  }): Promise<{ topic: string; partition: number; errorCode: number }[]>;
  endTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number>;
  /** For metrics and tests. */
  describe(): {
    transactionalId: string;
    producerId: number;
    producerEpoch: number;
    state: TransactionState;
  }[];
  close(): Promise<void>;
}

// ---------------------------------------------------------------- shared services

export interface BrokerMetrics {
  requestHandled(apiKey: number, errorCode: number, seconds: number): void;
  bytesIn(count: number): void;
  bytesOut(count: number): void;
  fsyncSeconds(seconds: number): void;
  connectionOpened(): void;
  connectionClosed(): void;
}

/** What an API handler can reach. */
export interface BrokerServices {
  config: BrokerConfig;
  /** The address advertised in Metadata and FindCoordinator. */
  advertised: () => { host: string; port: number };
  topics: TopicRegistry;
  log: LogStore;
  groups: GroupCoordinator;
  txns: TransactionCoordinator;
  logger: Logger;
  metrics: BrokerMetrics;
}
