/**
 * Transaction coordinator for a single node.
 *
 * Every transactional id has one record (producer id, epoch, state, partitions, groups, pending offsets),
 * persisted through a journal whenever it changes in a way recovery needs. Producer ids come from blocks
 * whose upper bound is journaled before any id of the block is handed out, so ids are never reused after
 * a restart. Operations on one transactional id run one after another (a per-key promise queue), so the
 * transient Prepare* states are only ever observed after a failed marker write or a crash; recovery and the
 * periodic expiry check complete them.
 *
 * Markers are written synchronously: EndTxn answers after every marker is durable and the transaction's
 * offsets are visible, so a read_committed consumer sees the outcome as soon as the producer does.
 */
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '@tidemark/kafka-protocol';
import type { Logger } from 'pino';
import type {
  BrokerConfig,
  GroupCoordinator,
  LogStore,
  OffsetCommitEntry,
  TopicPartition,
  TransactionCoordinator,
  TransactionState,
} from '../contracts';
import { Journal } from '../storage/journal';

/** Producer ids reserved per journal write. */
const PRODUCER_ID_BLOCK = 1000;
/** The first producer id ever handed out. */
const FIRST_PRODUCER_ID = 1000;
/** Epochs handed to producers stay below this; the last value is only used to fence (as Kafka). */
const MAX_PRODUCER_EPOCH = 32767;
/** Single node: the transaction log's leader epoch never changes. */
const COORDINATOR_EPOCH = 0;
const COMPACT_MIN_APPENDS = 10_000;

interface TxnSnapshot {
  id: string;
  producerId: number;
  epoch: number;
  state: TransactionState;
  timeoutMs: number;
  partitions: [string, number][];
  groups: string[];
  /** groupId -> offsets committed in this transaction, not visible before the commit. */
  offsets: Record<string, OffsetCommitEntry[]>;
  startedAtMs: number;
}

export type TxnJournalRecord = { t: 'pids'; end: number } | ({ t: 'txn' } & TxnSnapshot);

interface Txn {
  readonly id: string;
  producerId: number;
  epoch: number;
  state: TransactionState;
  timeoutMs: number;
  /** "topic\0partition" keys, insertion ordered. */
  partitions: Map<string, TopicPartition>;
  groups: Set<string>;
  offsets: Map<string, Map<string, OffsetCommitEntry>>;
  startedAtMs: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Runs the functions given for one key strictly one after another. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}

export class DiskTransactionCoordinator implements TransactionCoordinator {
  private readonly txns = new Map<string, Txn>();
  private readonly queue = new KeyedQueue();
  /** Producer id allocation has its own queue, so it can be called from within a transactional id's turn. */
  private readonly allocations = new KeyedQueue();
  private nextProducerId: number;
  private producerIdBlockEnd: number;
  private closed = false;
  private readonly expiryTimer: NodeJS.Timeout;
  private appendsSinceCompaction = 0;
  private compacting = false;

  private constructor(
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
    private readonly journal: Journal<TxnJournalRecord>,
    private readonly log: LogStore,
    private readonly groups: GroupCoordinator,
    producerIdBlockEnd: number,
  ) {
    // Ids below the persisted bound may have been handed out before a crash: start after it.
    this.nextProducerId = producerIdBlockEnd;
    this.producerIdBlockEnd = producerIdBlockEnd;
    this.expiryTimer = setInterval(() => this.expireTransactions(), config.transactionAbortCheckIntervalMs);
    this.expiryTimer.unref();
  }

  static async open(
    config: BrokerConfig,
    deps: { logger: Logger; dataDir: string; log: LogStore; groups: GroupCoordinator },
  ): Promise<DiskTransactionCoordinator> {
    const journal = await Journal.open<TxnJournalRecord>(join(deps.dataDir, 'transactions.jsonl'));
    let blockEnd = FIRST_PRODUCER_ID;
    const snapshots = new Map<string, TxnSnapshot>();
    for (const record of journal.replayed) {
      if (record.t === 'pids') blockEnd = Math.max(blockEnd, record.end);
      else if (record.t === 'txn') {
        const { t: _t, ...snapshot } = record;
        snapshots.set(snapshot.id, snapshot);
        // Defensive: ids in use are below the bound anyway.
        blockEnd = Math.max(blockEnd, snapshot.producerId + 1);
      }
    }
    journal.replayed.length = 0;

    const coordinator = new DiskTransactionCoordinator(
      config,
      deps.logger,
      journal,
      deps.log,
      deps.groups,
      blockEnd,
    );
    for (const snapshot of snapshots.values()) coordinator.txns.set(snapshot.id, fromSnapshot(snapshot));
    try {
      await journal.compact(coordinator.journalSnapshot());
      // Transactions caught between the decision and the markers are completed before anything is served.
      for (const txn of coordinator.txns.values()) {
        if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') {
          const errorCode = await coordinator.queue.run(txn.id, () => coordinator.complete(txn));
          if (errorCode !== ErrorCode.NONE) {
            deps.logger.warn({ transactionalId: txn.id }, 'recovering a transaction failed; will retry');
          }
        }
      }
    } catch (error) {
      await coordinator.close();
      throw error;
    }
    deps.logger.debug(
      { transactions: coordinator.txns.size, nextProducerId: blockEnd },
      'transactions loaded',
    );
    return coordinator;
  }

  // ------------------------------------------------------------ InitProducerId

  async initProducerId(
    transactionalId: string | null,
    transactionTimeoutMs: number,
  ): Promise<{ errorCode: number; producerId: number; producerEpoch: number }> {
    const failure = (errorCode: number) => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (this.closed) return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (transactionalId === null) {
      try {
        return { errorCode: ErrorCode.NONE, producerId: await this.allocateProducerId(), producerEpoch: 0 };
      } catch (error) {
        this.logger.error({ err: error }, 'allocating a producer id failed');
        return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
    }
    if (transactionalId === '') return failure(ErrorCode.INVALID_REQUEST);
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.config.transactionMaxTimeoutMs) {
      throw new KafkaError(
        ErrorCode.INVALID_TRANSACTION_TIMEOUT,
        `transaction timeout must be in 1..${this.config.transactionMaxTimeoutMs} ms`,
      );
    }

    return this.queue.run(transactionalId, async () => {
      if (this.closed) return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      try {
        let txn = this.txns.get(transactionalId);
        if (txn === undefined) {
          txn = newTxn(transactionalId, await this.allocateProducerId(), transactionTimeoutMs);
          this.txns.set(transactionalId, txn);
          await this.persist(txn);
          this.logger.debug({ transactionalId, producerId: txn.producerId }, 'new transactional id');
          return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.epoch };
        }

        if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') {
          // Left over from a failed marker write: finish it first.
          const errorCode = await this.complete(txn);
          if (errorCode !== ErrorCode.NONE) return failure(ErrorCode.CONCURRENT_TRANSACTIONS);
        }

        let nextEpoch = txn.epoch + 1;
        if (txn.state === 'Ongoing') {
          // Fence the previous holder and abort its transaction with the bumped epoch.
          this.logger.info(
            { transactionalId, producerId: txn.producerId },
            'aborting open transaction on re-init',
          );
          txn.epoch = nextEpoch;
          txn.state = 'PrepareAbort';
          await this.persist(txn);
          const errorCode = await this.complete(txn);
          if (errorCode !== ErrorCode.NONE) return failure(ErrorCode.CONCURRENT_TRANSACTIONS);
          nextEpoch = txn.epoch;
        }

        if (nextEpoch >= MAX_PRODUCER_EPOCH) {
          txn.producerId = await this.allocateProducerId();
          txn.epoch = 0;
        } else {
          txn.epoch = nextEpoch;
        }
        txn.state = 'Empty';
        txn.timeoutMs = transactionTimeoutMs;
        clearTransaction(txn);
        await this.persist(txn);
        return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.epoch };
      } catch (error) {
        this.logger.error({ err: error, transactionalId }, 'InitProducerId failed');
        return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
    });
  }

  private allocateProducerId(): Promise<number> {
    return this.allocations.run('producer-ids', async () => {
      if (this.nextProducerId >= this.producerIdBlockEnd) {
        const end = this.nextProducerId + PRODUCER_ID_BLOCK;
        await this.append({ t: 'pids', end });
        this.producerIdBlockEnd = end;
      }
      const id = this.nextProducerId;
      this.nextProducerId += 1;
      return id;
    });
  }

  // ------------------------------------------------------------ adding to a transaction

  async addPartitionsToTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: TopicPartition[],
  ): Promise<{ topic: string; partition: number; errorCode: number }[]> {
    const errorCode = await this.queue.run(transactionalId, async () => {
      const txn = this.txns.get(transactionalId);
      const invalid = this.validate(txn, producerId, producerEpoch);
      if (txn === undefined || invalid !== ErrorCode.NONE) return invalid;
      if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort')
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      const fresh = partitions.filter(({ topic, partition }) => !txn.partitions.has(tpKey(topic, partition)));
      if (txn.state === 'Ongoing' && fresh.length === 0) return ErrorCode.NONE;
      this.begin(txn);
      for (const { topic, partition } of fresh)
        txn.partitions.set(tpKey(topic, partition), { topic, partition });
      return this.persistOrFail(txn);
    });
    return partitions.map(({ topic, partition }) => ({ topic, partition, errorCode }));
  }

  addOffsetsToTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ): Promise<number> {
    return this.queue.run(transactionalId, async () => {
      const txn = this.txns.get(transactionalId);
      const invalid = this.validate(txn, producerId, producerEpoch);
      if (txn === undefined || invalid !== ErrorCode.NONE) return invalid;
      if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort')
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
      if (txn.state === 'Ongoing' && txn.groups.has(groupId)) return ErrorCode.NONE;
      this.begin(txn);
      txn.groups.add(groupId);
      return this.persistOrFail(txn);
    });
  }

  async txnOffsetCommit(input: {
    transactionalId: string;
    groupId: string;
    producerId: number;
    producerEpoch: number;
    offsets: OffsetCommitEntry[];
  }): Promise<{ topic: string; partition: number; errorCode: number }[]> {
    const errorCode = await this.queue.run(input.transactionalId, async () => {
      const txn = this.txns.get(input.transactionalId);
      const invalid = this.validate(txn, input.producerId, input.producerEpoch);
      if (txn === undefined || invalid !== ErrorCode.NONE) return invalid;
      if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort')
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      if (input.offsets.length === 0) return ErrorCode.NONE;
      // Kafka does not require AddOffsetsToTxn first; neither do we. Outside a transaction the offsets wait
      // for the next one.
      txn.groups.add(input.groupId);
      let pending = txn.offsets.get(input.groupId);
      if (pending === undefined) {
        pending = new Map();
        txn.offsets.set(input.groupId, pending);
      }
      for (const entry of input.offsets) pending.set(tpKey(entry.topic, entry.partition), { ...entry });
      return this.persistOrFail(txn);
    });
    return input.offsets.map(({ topic, partition }) => ({ topic, partition, errorCode }));
  }

  /** Starts a transaction unless one is ongoing. */
  private begin(txn: Txn): void {
    if (txn.state === 'Ongoing') return;
    txn.state = 'Ongoing';
    txn.startedAtMs = Date.now();
  }

  private validate(txn: Txn | undefined, producerId: number, producerEpoch: number): number {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (txn === undefined || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    // kafkajs does not know PRODUCER_FENCED (90); old request versions get INVALID_PRODUCER_EPOCH.
    if (txn.epoch !== producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    return ErrorCode.NONE;
  }

  // ------------------------------------------------------------ EndTxn

  endTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number> {
    return this.queue.run(transactionalId, async () => {
      const txn = this.txns.get(transactionalId);
      const invalid = this.validate(txn, producerId, producerEpoch);
      if (txn === undefined || invalid !== ErrorCode.NONE) return invalid;
      switch (txn.state) {
        case 'Ongoing': {
          txn.state = commit ? 'PrepareCommit' : 'PrepareAbort';
          const persisted = await this.persistOrFail(txn);
          if (persisted !== ErrorCode.NONE) {
            txn.state = 'Ongoing';
            return persisted;
          }
          return this.complete(txn);
        }
        case 'PrepareCommit':
        case 'PrepareAbort':
          // Only after a failed completion: a retry of the same decision finishes it.
          return (txn.state === 'PrepareCommit') === commit
            ? this.complete(txn)
            : ErrorCode.INVALID_TXN_STATE;
        case 'CompleteCommit':
          return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
        case 'CompleteAbort':
          return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
        default:
          return ErrorCode.INVALID_TXN_STATE;
      }
    });
  }

  /**
   * Finishes a transaction in PrepareCommit/PrepareAbort (already persisted): markers to every partition,
   * offsets made visible on commit, then CompleteCommit/CompleteAbort persisted. Must run in the id's queue.
   * On failure the Prepare* state stays, to be retried.
   */
  private async complete(txn: Txn): Promise<number> {
    const commit = txn.state === 'PrepareCommit';
    const marker = {
      producerId: txn.producerId,
      producerEpoch: txn.epoch,
      commit,
      coordinatorEpoch: COORDINATOR_EPOCH,
    };
    const partitions = [...txn.partitions.values()];
    // Markers and the transaction's offsets go out together: the decision is already durable (Prepare*), so
    // a crash in between is finished the same way on restart, and one fsync round serves both.
    const applyOffsets = async (): Promise<void> => {
      if (!commit) return;
      await Promise.all(
        [...txn.offsets]
          .filter(([, offsets]) => offsets.size > 0)
          .map(([groupId, offsets]) => this.groups.applyTxnOffsets(groupId, [...offsets.values()])),
      );
    };
    const [offsetsResult, ...results] = await Promise.allSettled([
      applyOffsets(),
      ...partitions.map(({ topic, partition }) => this.log.writeTxnMarker(topic, partition, marker)),
    ]);
    let failed = false;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const error: unknown = result.reason;
      if (error instanceof KafkaError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
        // The topic was deleted meanwhile: nothing left to mark.
        this.logger.warn(
          { transactionalId: txn.id, partition: partitions[i] },
          'marker for a missing partition skipped',
        );
        return;
      }
      failed = true;
      this.logger.error(
        { err: error, transactionalId: txn.id, partition: partitions[i] },
        'writing a marker failed',
      );
    });
    if (offsetsResult?.status === 'rejected') {
      this.logger.error(
        { err: offsetsResult.reason, transactionalId: txn.id },
        'applying transactional offsets failed',
      );
      failed = true;
    }
    if (failed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;

    txn.state = commit ? 'CompleteCommit' : 'CompleteAbort';
    clearTransaction(txn);
    this.logger.debug(
      {
        transactionalId: txn.id,
        producerId: txn.producerId,
        epoch: txn.epoch,
        partitions: partitions.length,
      },
      commit ? 'transaction committed' : 'transaction aborted',
    );
    // The outcome is already decided and applied: recording Complete* need not hold up the answer. Should it be
    // lost in a crash, recovery finds Prepare* and writes the same markers again, which is harmless.
    this.persist(txn).catch((error: unknown) =>
      this.logger.error(
        { err: error, transactionalId: txn.id },
        'persisting the completed transaction failed',
      ),
    );
    return ErrorCode.NONE;
  }

  // ------------------------------------------------------------ expiry

  private expireTransactions(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const txn of this.txns.values()) {
      const expired = txn.state === 'Ongoing' && now - txn.startedAtMs > txn.timeoutMs;
      const stuck = txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort';
      if (!expired && !stuck) continue;
      void this.queue
        .run(txn.id, async () => {
          if (this.closed || this.txns.get(txn.id) !== txn) return;
          if (txn.state === 'Ongoing' && Date.now() - txn.startedAtMs > txn.timeoutMs) {
            this.logger.info(
              { transactionalId: txn.id, producerId: txn.producerId, timeoutMs: txn.timeoutMs },
              'aborting expired transaction',
            );
            // Bump the epoch so that the producer that let it expire is fenced.
            txn.epoch += 1;
            txn.state = 'PrepareAbort';
            await this.persist(txn);
            await this.complete(txn);
          } else if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') {
            await this.complete(txn);
          }
        })
        .catch((error: unknown) =>
          this.logger.error({ err: error, transactionalId: txn.id }, 'expiry failed'),
        );
    }
  }

  // ------------------------------------------------------------ persistence

  private async persistOrFail(txn: Txn): Promise<number> {
    try {
      await this.persist(txn);
      return ErrorCode.NONE;
    } catch (error) {
      this.logger.error({ err: error, transactionalId: txn.id }, 'persisting transaction state failed');
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  private persist(txn: Txn): Promise<void> {
    return this.append({ t: 'txn', ...toSnapshot(txn) });
  }

  private async append(record: TxnJournalRecord): Promise<void> {
    this.appendsSinceCompaction += 1;
    await this.journal.append([record]);
    this.maybeCompact();
  }

  private maybeCompact(): void {
    if (this.compacting || this.closed) return;
    if (this.appendsSinceCompaction < Math.max(COMPACT_MIN_APPENDS, this.txns.size * 4)) return;
    this.compacting = true;
    this.appendsSinceCompaction = 0;
    // Every state whose append was issued is already in memory, so the snapshot covers it.
    this.journal
      .compact(this.journalSnapshot())
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'compacting the transaction journal failed'),
      )
      .finally(() => {
        this.compacting = false;
      });
  }

  private journalSnapshot(): TxnJournalRecord[] {
    const records: TxnJournalRecord[] = [{ t: 'pids', end: this.producerIdBlockEnd }];
    for (const txn of this.txns.values()) records.push({ t: 'txn', ...toSnapshot(txn) });
    return records;
  }

  // ------------------------------------------------------------ describe, close

  describe(): {
    transactionalId: string;
    producerId: number;
    producerEpoch: number;
    state: TransactionState;
  }[] {
    return [...this.txns.values()].map((txn) => ({
      transactionalId: txn.id,
      producerId: txn.producerId,
      producerEpoch: txn.epoch,
      state: txn.state,
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.expiryTimer);
    await this.queue.drain();
    await this.allocations.drain();
    await this.journal.close();
  }
}

function newTxn(id: string, producerId: number, timeoutMs: number): Txn {
  return {
    id,
    producerId,
    epoch: 0,
    state: 'Empty',
    timeoutMs,
    partitions: new Map(),
    groups: new Set(),
    offsets: new Map(),
    startedAtMs: 0,
  };
}

function clearTransaction(txn: Txn): void {
  txn.partitions = new Map();
  txn.groups = new Set();
  txn.offsets = new Map();
  txn.startedAtMs = 0;
}

function toSnapshot(txn: Txn): TxnSnapshot {
  const offsets: Record<string, OffsetCommitEntry[]> = {};
  for (const [groupId, entries] of txn.offsets) offsets[groupId] = [...entries.values()];
  return {
    id: txn.id,
    producerId: txn.producerId,
    epoch: txn.epoch,
    state: txn.state,
    timeoutMs: txn.timeoutMs,
    partitions: [...txn.partitions.values()].map(({ topic, partition }) => [topic, partition]),
    groups: [...txn.groups],
    offsets,
    startedAtMs: txn.startedAtMs,
  };
}

function fromSnapshot(snapshot: TxnSnapshot): Txn {
  const partitions = new Map<string, TopicPartition>();
  for (const [topic, partition] of snapshot.partitions)
    partitions.set(tpKey(topic, partition), { topic, partition });
  const offsets = new Map<string, Map<string, OffsetCommitEntry>>();
  for (const [groupId, entries] of Object.entries(snapshot.offsets)) {
    offsets.set(groupId, new Map(entries.map((entry) => [tpKey(entry.topic, entry.partition), entry])));
  }
  return {
    id: snapshot.id,
    producerId: snapshot.producerId,
    epoch: snapshot.epoch,
    state: snapshot.state,
    timeoutMs: snapshot.timeoutMs,
    partitions,
    groups: new Set(snapshot.groups),
    offsets,
    startedAtMs: snapshot.startedAtMs,
  };
}
