/** Test harness: an embedded broker, and a kafkajs client that sends command envelopes and collects outcomes. */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningBroker } from '@tidemark/broker';
import { startBroker } from '@tidemark/broker';
import type { CommandEnvelope, ExpectedVersion } from '@tidemark/schemas';
import { CommandOutcome } from '@tidemark/schemas';
import type { Consumer, Producer } from 'kafkajs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';

export async function startTestBroker(): Promise<{ broker: RunningBroker; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-processor-'));
  await chmod(dir, 0o755);
  const broker = await startBroker({ dataDir: dir, port: 0, logLevel: 'warn' });
  return {
    broker,
    async close() {
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export class CommandClient {
  private readonly waiters = new Map<string, ((outcome: CommandOutcome) => void)[]>();
  readonly outcomes = new Map<string, CommandOutcome>();
  private constructor(
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly context: string,
  ) {}

  static async start(bootstrap: string, context: string): Promise<CommandClient> {
    const kafka = new Kafka({ clientId: 'command-client', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
    await producer.connect();
    const consumer = kafka.consumer({ groupId: `results-${Math.random()}`, maxWaitTimeInMs: 50 });
    const client = new CommandClient(producer, consumer, context);
    await consumer.connect();
    await consumer.subscribe({ topic: `${context}.command-results`, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const outcome = CommandOutcome.parse(JSON.parse(message.value?.toString() ?? 'null'));
        client.outcomes.set(outcome.commandId, outcome);
        for (const resolve of client.waiters.get(outcome.commandId) ?? []) resolve(outcome);
        client.waiters.delete(outcome.commandId);
      },
    });
    await joined;
    return client;
  }

  /** Sends a command and resolves with its (next) outcome. */
  async send(
    commandId: string,
    type: string,
    aggregateId: string,
    payload: unknown,
    expectedVersion?: ExpectedVersion,
  ): Promise<CommandOutcome> {
    const outcome = new Promise<CommandOutcome>((resolve) => {
      this.waiters.set(commandId, [...(this.waiters.get(commandId) ?? []), resolve]);
    });
    const envelope: CommandEnvelope = {
      commandId,
      type,
      aggregateId,
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
      payload,
      metadata: { correlationId: commandId, causationId: commandId, receivedAt: new Date(0).toISOString() },
    };
    await this.producer.send({
      topic: `${this.context}.commands`,
      acks: -1,
      messages: [{ key: aggregateId, value: JSON.stringify(envelope), headers: { type, commandId } }],
    });
    return outcome;
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}

export function publishPayload(seller: string, price: number) {
  return {
    sellerId: seller,
    title: `Bike from ${seller}`,
    description: 'A fine bike',
    category: 'bikes',
    priceCents: price,
    currency: 'EUR',
    location: { country: 'NL', city: 'Utrecht' },
  };
}
