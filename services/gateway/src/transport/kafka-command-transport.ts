import { randomUUID } from 'node:crypto';
import { noDelaySocketFactory, runSupervised } from '@tidemark/kafka';
import type { CommandEnvelope } from '@tidemark/schemas';
import { CommandOutcome, TidemarkError } from '@tidemark/schemas';
import type { Admin, Consumer, Message, Producer, TopicMessages } from 'kafkajs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Logger } from 'pino';
import type { CommandTransport } from './command-transport';
import { logUnavailable } from './command-transport';
import { pinoLogCreator } from './kafka-log';
import { DEFAULT_OUTCOME_CACHE_SIZE, OutcomeBook } from './outcome-book';

export interface KafkaCommandTransportOptions {
  brokers: string[];
  /** Context names: commands go to <ctx>.commands, outcomes are read from <ctx>.command-results. */
  contexts: string[];
  clientId?: string;
  logger: Logger;
  /** Outcomes remembered for lookupOutcome (LRU, default 100,000). */
  outcomeCacheSize?: number;
  /** A send not acknowledged by then fails with LOG_UNAVAILABLE (default 5000). */
  sendTimeoutMs?: number;
  /** How long start() waits for the results consumers to join (default 30000). */
  startTimeoutMs?: number;
}

interface PendingSend {
  context: string;
  message: Message;
  deadline: number;
  settled: boolean;
  timer: NodeJS.Timeout;
  resolve(): void;
  reject(error: unknown): void;
}

const commandsTopic = (context: string) => `${context}.commands`;
const resultsTopic = (context: string) => `${context}.command-results`;

/**
 * The Kafka command transport: an idempotent producer (acks -1, murmur2 default partitioner, key = aggregate id)
 * writes commands to <ctx>.commands; one read_committed consumer per context, in a group of its own
 * (<ctx>.gateway.<uuid>), reads <ctx>.command-results from where the topic ended when start() ran.
 *
 * Sends are batched while a produce is in flight (one produce request at a time keeps the idempotent producer's
 * sequence numbers in order); a send still queued at its deadline is dropped and fails with LOG_UNAVAILABLE.
 */
export class KafkaCommandTransport implements CommandTransport {
  private readonly book: OutcomeBook;
  private readonly queue: PendingSend[] = [];
  private flushing = false;
  private closed = false;
  get isClosed(): boolean {
    return this.closed;
  }
  private readonly contexts: ReadonlySet<string>;

  private constructor(
    private readonly producer: Producer,
    private readonly consumers: Consumer[],
    contexts: string[],
    private readonly logger: Logger,
    private readonly sendTimeoutMs: number,
    outcomeCacheSize: number,
  ) {
    this.contexts = new Set(contexts);
    this.book = new OutcomeBook(outcomeCacheSize);
  }

  /** Connects the producer and the results consumers; resolves once every consumer has joined its group. */
  static async start(options: KafkaCommandTransportOptions): Promise<KafkaCommandTransport> {
    if (options.contexts.length === 0) throw new Error('KafkaCommandTransport needs at least one context');
    const logger = options.logger.child({ component: 'kafka-command-transport' });
    const kafka = new Kafka({
      socketFactory: noDelaySocketFactory,
      clientId: options.clientId ?? 'tidemark-gateway',
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: pinoLogCreator(logger),
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
    const instance = randomUUID();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const consumers: Consumer[] = [];
    const transport = new KafkaCommandTransport(
      producer,
      consumers,
      options.contexts,
      logger,
      options.sendTimeoutMs ?? 5_000,
      options.outcomeCacheSize ?? DEFAULT_OUTCOME_CACHE_SIZE,
    );
    const admin = kafka.admin();
    try {
      await producer.connect();
      await admin.connect();
      for (const context of options.contexts) {
        const consumer = kafka.consumer({
          groupId: `${context}.gateway.${instance}`,
          readUncommitted: false,
          allowAutoTopicCreation: false,
          maxWaitTimeInMs: 500,
          retry: {
            retries: 8,
            initialRetryTime: 100,
            maxRetryTime: 2_000,
            // kafkajs restarts a crashed consumer on a timer, even one crashing while it is disconnected.
            restartOnFailure: async () => !transport.isClosed,
          },
        });
        consumers.push(consumer);
        await transport.startConsumer(
          admin,
          consumer,
          context,
          `${context}.gateway.${instance}`,
          options.startTimeoutMs ?? 30_000,
        );
      }
    } catch (error) {
      await transport.close();
      throw error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    logger.info({ contexts: options.contexts, instance }, 'command transport started');
    return transport;
  }

  /**
   * The group is new. The end of the results topic is read before the consumer starts and the consumer is sought
   * there (applied on its first fetch, before it would resolve "latest" itself, which can happen later): every result
   * written after start() returns is at or past that offset, so none is missed.
   */
  private async startConsumer(
    admin: Admin,
    consumer: Consumer,
    context: string,
    groupId: string,
    timeoutMs: number,
  ): Promise<void> {
    const topic = resultsTopic(context);
    const ends = await admin.fetchTopicOffsets(topic);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`results consumer for ${topic} did not join within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const offJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        offJoin();
        offCrash();
        resolve();
      });
      const offCrash = consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        offJoin();
        offCrash();
        reject(event.payload.error);
      });
    });
    consumer.on(consumer.events.CRASH, (event) => {
      this.logger.error(
        { err: event.payload.error, topic, restart: event.payload.restart },
        'results consumer crashed',
      );
    });
    const running = runSupervised(
      consumer,
      {
        // The group is this instance's own and starts at the end: committed offsets would never be read, and
        // committing them costs a broker round trip per fetched batch.
        autoCommit: false,
        eachMessage: async ({ message, partition }) => {
          this.receive(context, partition, message.offset, message.key, message.value);
        },
      },
      { logger: this.logger, isClosed: () => this.isClosed },
    );
    // run() has created the consumer group synchronously; the seeks wait for the first fetch after the join.
    for (const { partition, high } of ends) consumer.seek({ topic, partition, offset: high });
    await running;
    await joined;
    this.logger.debug(
      { topic, groupId, offsets: ends.map((e) => `${e.partition}:${e.high}`) },
      'results consumer joined',
    );
  }

  private receive(
    context: string,
    partition: number,
    offset: string,
    key: Buffer | null,
    value: Buffer | null,
  ): void {
    if (!value) return;
    let json: unknown;
    try {
      json = JSON.parse(value.toString('utf8'));
    } catch {
      this.logger.warn({ context, partition, offset }, 'command result is not JSON; skipped');
      return;
    }
    const parsed = CommandOutcome.safeParse(json);
    if (!parsed.success) {
      this.logger.warn({ context, partition, offset }, 'command result is not a CommandOutcome; skipped');
      return;
    }
    const keyText = key?.toString('utf8');
    if (keyText !== undefined && keyText !== parsed.data.commandId) {
      this.logger.warn(
        { context, partition, offset, key: keyText },
        'command result key differs from its commandId',
      );
    }
    this.book.record(context, parsed.data);
  }

  awaitOutcome(context: string, commandId: string, timeoutMs: number) {
    return this.book.wait(context, commandId, timeoutMs);
  }

  lookupOutcome(context: string, commandId: string) {
    return this.book.lookup(context, commandId);
  }

  send(context: string, command: CommandEnvelope): Promise<void> {
    if (!this.contexts.has(context)) {
      return Promise.reject(
        new TidemarkError('CONTEXT_NOT_FOUND', `unknown context '${context}'`, 404, false),
      );
    }
    if (this.closed) return Promise.reject(logUnavailable('the command transport is closed'));
    const message: Message = {
      key: command.aggregateId,
      value: JSON.stringify(command),
      headers: { type: command.type, commandId: command.commandId },
    };
    return new Promise<void>((resolve, reject) => {
      const pending: PendingSend = {
        context,
        message,
        deadline: Date.now() + this.sendTimeoutMs,
        settled: false,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(
            pending,
            logUnavailable(`the command log did not acknowledge within ${this.sendTimeoutMs} ms`, {
              commandId: command.commandId,
            }),
          );
        }, this.sendTimeoutMs),
      };
      this.queue.push(pending);
      if (!this.flushing) {
        this.flushing = true;
        // Let the sends of this tick join the batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  private settle(pending: PendingSend, error?: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    if (error === undefined) pending.resolve();
    else pending.reject(error);
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const now = Date.now();
        const batch = this.queue.splice(0, 500).filter((p) => !p.settled && p.deadline > now);
        if (batch.length === 0) continue;
        await this.produce(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async produce(batch: PendingSend[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const topic = commandsTopic(p.context);
      const list = byTopic.get(topic) ?? [];
      list.push(p.message);
      byTopic.set(topic, list);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      await this.producer.sendBatch({ acks: -1, topicMessages });
      for (const p of batch) this.settle(p);
    } catch (error) {
      if (isTooLarge(error) && batch.length > 1) {
        for (const p of batch) await this.produce([p]);
        return;
      }
      const mapped = mapSendError(error);
      this.logger.warn({ err: error, commands: batch.length }, 'sending commands to the log failed');
      for (const p of batch) this.settle(p, mapped);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.book.close();
    for (const p of this.queue.splice(0)) this.settle(p, logUnavailable('the command transport is closed'));
    const bounded = (promise: Promise<void>) =>
      Promise.race([promise, new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref())]);
    await Promise.allSettled([
      ...this.consumers.map((c) => bounded(c.disconnect())),
      bounded(this.producer.disconnect()),
    ]);
  }
}

function errorType(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const record = current as { type?: unknown; originalError?: unknown; cause?: unknown };
    if (typeof record.type === 'string') return record.type;
    current = record.originalError ?? record.cause;
  }
  return undefined;
}

function isTooLarge(error: unknown): boolean {
  const type = errorType(error);
  return type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE';
}

function mapSendError(error: unknown): TidemarkError {
  if (error instanceof TidemarkError) return error;
  if (isTooLarge(error)) {
    return new TidemarkError('PAYLOAD_TOO_LARGE', 'the command is larger than the log accepts', 413, false);
  }
  const name = error instanceof Error ? error.name : 'Error';
  return logUnavailable('the command log is unavailable', { cause: name });
}
