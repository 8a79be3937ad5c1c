/**
 * The single writer of one partition p. Taking over happens in the order of DESIGN.md: fence (initialise the
 * transactional producer "<ctx>.processor.p<p>", which aborts the previous owner's open transaction), then
 * rebuild the state of p from the latest snapshot plus the tail of the events and results partitions under
 * read_committed, then process commands. Each batch is one Kafka transaction: events to <ctx>.events p,
 * outcomes to <ctx>.command-results p, a snapshot now and then, and the command offsets.
 */

import type { ContextTopics, PartitionReader } from '@tidemark/kafka';
import { GENESIS_EVENT_TYPE } from '@tidemark/kafka';
import { CommandOutcome, EventEnvelope, encodeToken } from '@tidemark/schemas';
import type { ContextDefinition } from '@tidemark/sdk';
import type { Kafka, Message, Producer, Transaction } from 'kafkajs';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { DecidedCommand } from './command-handler';
import { decideCommand, parseCommand } from './command-handler';
import type { PartitionSnapshot } from './partition-state';
import { BatchOverlay, PartitionState } from './partition-state';

export interface OwnerSettings {
  context: ContextDefinition;
  topics: ContextTopics;
  topicIdentity: string;
  consumerGroup: string;
  dedupeWindow: number;
  snapshotEveryEvents: number;
  transactionTimeoutMs: number;
  /**
   * Command offsets ride in a batch's transaction only when this long has passed since they last did (0: every
   * batch); an idle partition commits what is pending after this long in a transaction of its own.
   */
  offsetCommitIntervalMs: number;
  instanceId: string;
}

export interface CommandRecord {
  offset: number;
  value: Buffer | null;
}

export interface BatchResult {
  outcomes: DecidedCommand[];
  eventsWritten: number;
}

export class PartitionOwner {
  /** Serialises batches and the idle offsets commit: one open transaction per transactional id at a time. */
  private tail: Promise<unknown> = Promise.resolve();
  private offsetsCommittedAt = Date.now();
  /** Next command offset decided and written but not yet committed to the group; null when none. */
  private pendingOffset: number | null = null;
  private idleCommit: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    readonly partition: number,
    private readonly producer: Producer,
    private readonly state: PartitionState,
    private readonly settings: OwnerSettings,
    private readonly logger: Logger,
  ) {}

  /** Fence, then rebuild. The returned owner holds the partition's transactional producer. */
  static async takeOver(
    partition: number,
    kafka: Kafka,
    reader: PartitionReader,
    settings: OwnerSettings,
    logger: Logger,
  ): Promise<{ owner: PartitionOwner; rebuildMs: number; replayedEvents: number }> {
    const producer = kafka.producer({
      transactionalId: `${settings.context.name}.processor.p${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: settings.transactionTimeoutMs,
    });
    await producer.connect();
    const started = Date.now();
    try {
      // kafkajs sends InitProducerId on the first transaction(): that is the fence. The empty transaction is
      // aborted locally (nothing was added to it, so no request is needed).
      const fence = await producer.transaction();
      await fence.abort();
      const { state, replayedEvents } = await rebuild(partition, reader, settings, logger);
      const owner = new PartitionOwner(partition, producer, state, settings, logger);
      return { owner, rebuildMs: Date.now() - started, replayedEvents };
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.idleCommit);
    await this.producer.disconnect().catch(() => undefined);
  }

  /** Decides and writes one batch of commands in one transaction; the state changes only after the commit. */
  processBatch(commands: CommandRecord[]): Promise<BatchResult> {
    return this.serialised(() => this.decideAndCommit(commands));
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Offsets committed in every transaction would cost two more requests per batch (AddOffsetsToTxn,
   * TxnOffsetCommit) and a coordinator fsync. Committing them at most every offsetCommitIntervalMs is safe: a new
   * owner re-reads the commands after the committed offset, and every one of them whose outcome is in the log is
   * a duplicate by command id (the rebuilt state holds every committed outcome), so it gets its original outcome
   * again and appends nothing.
   */
  private offsetsDue(): boolean {
    return Date.now() - this.offsetsCommittedAt >= this.settings.offsetCommitIntervalMs;
  }

  private scheduleIdleCommit(): void {
    clearTimeout(this.idleCommit);
    if (this.pendingOffset === null || this.released) return;
    this.idleCommit = setTimeout(() => {
      void this.serialised(() => this.commitPendingOffsets()).catch((error: unknown) => {
        // The next owner re-reads from the last committed offset; duplicates are caught by command id.
        this.logger.warn({ partition: this.partition, err: error }, 'idle offsets commit failed');
      });
    }, this.settings.offsetCommitIntervalMs);
    this.idleCommit.unref();
  }

  private async commitPendingOffsets(): Promise<void> {
    const offset = this.pendingOffset;
    if (offset === null || this.released) return;
    const txn = await this.producer.transaction();
    try {
      await this.sendOffsets(txn, offset);
      await txn.commit();
    } catch (error) {
      await abortQuietly(txn);
      throw error;
    }
    this.offsetsCommittedAt = Date.now();
    if (this.pendingOffset === offset) this.pendingOffset = null;
  }

  private async sendOffsets(txn: Transaction, offset: number): Promise<void> {
    await txn.sendOffsets({
      consumerGroupId: this.settings.consumerGroup,
      topics: [
        {
          topic: this.settings.topics.commands,
          partitions: [{ partition: this.partition, offset: String(offset) }],
        },
      ],
    });
  }

  private async decideAndCommit(commands: CommandRecord[]): Promise<BatchResult> {
    const { context, topics } = this.settings;
    const overlay = new BatchOverlay(this.state);
    const decided: DecidedCommand[] = [];
    for (const record of commands) {
      const command = parseCommand(record.value);
      if (command === null) {
        this.logger.warn(
          { partition: this.partition, offset: record.offset },
          'skipping a record that is not a command',
        );
        continue;
      }
      if ('invalid' in command) {
        const outcome: CommandOutcome = {
          status: 'invalid',
          commandId: command.commandId,
          aggregateId: command.aggregateId,
          code: command.invalid.code,
          message: command.invalid.message,
          issues: (command.invalid.details?.issues as { path: string; message: string }[] | undefined) ?? [],
        };
        overlay.outcomes.set(command.commandId, outcome);
        decided.push({
          commandId: command.commandId,
          aggregateId: command.aggregateId,
          outcome,
          events: [],
          record: null,
          duplicate: false,
        });
        continue;
      }
      decided.push(decideCommand(context, overlay, command, { newEventId: uuidv7 }));
    }
    const lastOffset = commands.at(-1)?.offset;
    if (lastOffset === undefined) return { outcomes: [], eventsWritten: 0 };

    const timings: Record<string, number> = {};
    const firstReceivedAt = decided.length > 0 ? parseCommandReceivedAt(commands[0]?.value ?? null) : null;
    if (firstReceivedAt !== null) timings.queued = Date.now() - firstReceivedAt;
    let mark = performance.now();
    const lap = (step: string) => {
      const now = performance.now();
      timings[step] = Math.round((now - mark) * 10) / 10;
      mark = now;
    };
    const txn = await this.producer.transaction();
    lap('begin');
    try {
      // This owner is the only writer of events partition p since its fence, so the offsets its events get are
      // known in advance: the partition's end, then one offset per event, then the commit marker. That lets the
      // outcomes (with their tokens) go out in the same produce request as the events; the broker's answer is
      // checked against the prediction, and a mismatch aborts the batch and rebuilds the partition.
      const predictedBase = this.state.eventsNext;
      let next = predictedBase;
      for (const d of decided) {
        if (d.events.length === 0 || !d.record) continue;
        next += d.events.length;
        d.record.position = next;
      }
      const eventsWritten = next - predictedBase;
      const eventsEnd = eventsWritten > 0 ? next + 1 : predictedBase; // + the commit marker
      for (const d of decided) {
        if (d.outcome.status === 'accepted' && !d.duplicate) {
          const position = d.record?.position ?? null;
          d.outcome.token = encodeToken({
            topicIdentity: this.settings.topicIdentity,
            positions: new Map(position === null ? [] : [[this.partition, position]]),
          });
        }
      }
      const topicMessages: { topic: string; messages: Message[] }[] = [];
      if (eventsWritten > 0) {
        topicMessages.push({
          topic: topics.events,
          messages: decided.flatMap((d) =>
            d.events.map((event) => ({
              key: event.aggregate.id,
              value: JSON.stringify(event),
              partition: this.partition,
              headers: {
                type: event.type,
                schemaVersion: String(event.schemaVersion),
                commandId: event.commandId,
                producer: this.settings.instanceId,
              },
            })),
          ),
        });
      }
      topicMessages.push({
        topic: topics.results,
        messages: decided.map((d) => ({
          key: d.commandId,
          value: JSON.stringify(d.outcome),
          partition: this.partition,
          headers: { status: d.outcome.status },
        })),
      });
      let snapshot: PartitionSnapshot | null = null;
      if (this.state.eventsSinceSnapshot + eventsWritten >= this.settings.snapshotEveryEvents) {
        // The snapshot is of the state after this batch; its results position is the one before it, so a
        // rebuild re-reads this batch's outcomes (harmless) rather than missing any.
        const after = new PartitionState(this.partition, this.settings.dedupeWindow);
        for (const [id, r] of this.state.aggregates) after.aggregates.set(id, r);
        for (const [id, o] of this.state.outcomes) after.rememberOutcome(id, o);
        overlay.applyTo(after);
        after.eventsNext = eventsEnd;
        after.resultsNext = this.state.resultsNext;
        snapshot = after.toSnapshot();
        topicMessages.push({
          topic: topics.snapshots,
          messages: [
            { key: `p${this.partition}`, value: JSON.stringify(snapshot), partition: this.partition },
          ],
        });
      }
      const written = await txn.sendBatch({ acks: -1, topicMessages });
      lap('produce');
      if (eventsWritten > 0) {
        const events = written.find((r) => r.topicName === topics.events && r.partition === this.partition);
        if (Number(events?.baseOffset) !== predictedBase) {
          throw new Error(
            `events of partition ${this.partition} landed at ${events?.baseOffset}, not at the predicted ${predictedBase}; rebuilding`,
          );
        }
      }
      const withOffsets = this.offsetsDue();
      if (withOffsets) {
        await this.sendOffsets(txn, lastOffset + 1);
        lap('offsets');
      }
      await txn.commit();
      lap('commit');
      if (withOffsets) {
        this.offsetsCommittedAt = Date.now();
        this.pendingOffset = null;
        clearTimeout(this.idleCommit);
      } else {
        this.pendingOffset = lastOffset + 1;
        this.scheduleIdleCommit();
      }
      this.logger.debug({ partition: this.partition, commands: commands.length, timings }, 'batch committed');
      overlay.applyTo(this.state);
      this.state.eventsNext = eventsEnd;
      if (snapshot) {
        this.state.eventsSinceSnapshot = 0;
        this.state.resultsNext = snapshot.resultsNext;
      } else {
        this.state.eventsSinceSnapshot += eventsWritten;
      }
      return { outcomes: decided, eventsWritten };
    } catch (error) {
      await abortQuietly(txn);
      throw error;
    }
  }
}

/** When the gateway accepted a command (for the queueing time in debug logs); null if unreadable. */
function parseCommandReceivedAt(value: Buffer | null): number | null {
  const match = value ? /"receivedAt":"([^"]+)"/.exec(value.toString('utf8')) : null;
  const at = match?.[1] ? Date.parse(match[1]) : Number.NaN;
  return Number.isFinite(at) ? at : null;
}

async function abortQuietly(txn: Transaction): Promise<void> {
  try {
    if (txn.isActive()) await txn.abort();
  } catch {
    // Fenced or disconnected: the coordinator aborts it (fence or timeout); nothing of it becomes visible.
  }
}

/** The longest a rebuild runs without letting the event loop turn. */
const REBUILD_SLICE_MS = 20;
const REBUILD_READ_BYTES = 1024 * 1024;

/** Latest snapshot of p, then the events and results written after it. */
async function rebuild(
  partition: number,
  reader: PartitionReader,
  settings: OwnerSettings,
  logger: Logger,
): Promise<{ state: PartitionState; replayedEvents: number }> {
  const { context, topics } = settings;
  const snapshot = await latestSnapshot(partition, reader, topics.snapshots);
  const state = snapshot
    ? PartitionState.fromSnapshot(snapshot, settings.dedupeWindow)
    : new PartitionState(partition, settings.dedupeWindow);

  const eventsEnd = await reader.endOffset(topics.events, partition);
  let replayedEvents = 0;
  // Read in 1 MiB chunks and yield to the event loop every REBUILD_SLICE_MS: the group heartbeats (and, in
  // `tidemark up`, everything else in the process, the broker too) keep running through a long rebuild. A
  // slice by time, not by count: on a loaded machine a few thousand events took hundreds of milliseconds, and a
  // 1 s session then expired in a process whose broker could not read the heartbeats.
  let sliceStarted = performance.now();
  await reader.read(
    topics.events,
    partition,
    state.eventsNext,
    eventsEnd,
    async (records) => {
      for (const [index, record] of records.entries()) {
        if (index % 64 === 63 && performance.now() - sliceStarted >= REBUILD_SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStarted = performance.now();
        }
        if (record.headers.type === GENESIS_EVENT_TYPE || !record.value) continue;
        const event = EventEnvelope.parse(JSON.parse(record.value.toString('utf8')));
        const id = event.aggregate.id;
        const current = state.aggregates.get(id) ?? {
          version: 0,
          state: context.decider.initialState(),
          position: null,
        };
        if (event.version !== current.version + 1) {
          logger.error(
            {
              partition,
              offset: record.offset,
              aggregate: id,
              version: event.version,
              expected: current.version + 1,
            },
            'version gap in the events log',
          );
        }
        const payload = context.events.read(event.type, event.schemaVersion, event.payload);
        state.aggregates.set(id, {
          version: event.version,
          state: context.decider.evolve(current.state, { type: event.type, payload }),
          position: record.offset + 1,
        });
        replayedEvents++;
      }
    },
    REBUILD_READ_BYTES,
  );
  state.eventsNext = eventsEnd;
  state.eventsSinceSnapshot = replayedEvents;

  const resultsEnd = await reader.endOffset(topics.results, partition);
  await reader.read(topics.results, partition, state.resultsNext, resultsEnd, (records) => {
    for (const record of records) {
      if (!record.value) continue;
      const outcome = CommandOutcome.parse(JSON.parse(record.value.toString('utf8')));
      state.rememberOutcome(outcome.commandId, outcome);
    }
  });
  state.resultsNext = resultsEnd;
  return { state, replayedEvents };
}

async function latestSnapshot(
  partition: number,
  reader: PartitionReader,
  topic: string,
): Promise<PartitionSnapshot | null> {
  const end = await reader.endOffset(topic, partition);
  // Each snapshot is a record plus a commit marker; look back further only when the tail holds none.
  for (let lookBack = 16; ; lookBack *= 8) {
    const from = Math.max(0, end - lookBack);
    let latest: PartitionSnapshot | null = null;
    await reader.read(topic, partition, from, end, (records) => {
      const last = records.at(-1);
      if (last?.value) latest = JSON.parse(last.value.toString('utf8')) as PartitionSnapshot;
    });
    if (latest || from === 0) return latest;
  }
}
