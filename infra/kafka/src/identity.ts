/**
 * The identity of a context's events topic, carried in every consistency token so that a token from a deleted
 * and recreated topic is refused. It is the id in a genesis record at offset 0 of partition 0, written by the
 * first process that finds the topic empty (if two race, both then read offset 0 and agree).
 * Consumers of the events topic skip records whose `type` header is GENESIS_EVENT_TYPE.
 */
import { randomBytes } from 'node:crypto';
import { TidemarkError } from '@tidemark/schemas';
import type { Kafka } from 'kafkajs';
import type { PartitionReader } from './partition-reader';

export const GENESIS_EVENT_TYPE = 'tidemark.genesis';

export async function readTopicIdentity(
  reader: PartitionReader,
  eventsTopic: string,
): Promise<string | null> {
  const end = await reader.endOffset(eventsTopic, 0);
  if (end === 0) return null;
  let identity: string | null = null;
  let first = true;
  await reader.read(eventsTopic, 0, 0, 1, (records) => {
    const record = records[0];
    if (first && record && record.headers.type === GENESIS_EVENT_TYPE && record.value) {
      identity = (JSON.parse(record.value.toString('utf8')) as { identity: string }).identity;
    }
    first = false;
  });
  if (identity === null) {
    throw new TidemarkError(
      'TOPIC_WITHOUT_GENESIS',
      `${eventsTopic} has data but no Tidemark genesis record at offset 0; it was not provisioned by Tidemark`,
      500,
      false,
    );
  }
  return identity;
}

/** Reads the identity, writing the genesis record first when the topic is empty. */
export async function ensureTopicIdentity(
  kafka: Kafka,
  reader: PartitionReader,
  eventsTopic: string,
): Promise<string> {
  const existing = await readTopicIdentity(reader, eventsTopic);
  if (existing) return existing;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: eventsTopic,
      acks: -1,
      messages: [
        {
          partition: 0,
          key: GENESIS_EVENT_TYPE,
          value: JSON.stringify({ identity: randomBytes(8).toString('hex') }),
          headers: { type: GENESIS_EVENT_TYPE },
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }
  const identity = await readTopicIdentity(reader, eventsTopic);
  if (!identity) throw new Error(`genesis record of ${eventsTopic} not readable after writing it`);
  return identity;
}

/** Waits (bounded) until the processor has written the genesis record; for readers of tokens. */
export async function awaitTopicIdentity(
  reader: PartitionReader,
  eventsTopic: string,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const identity = await readTopicIdentity(reader, eventsTopic).catch((error: unknown) => {
      if (Date.now() > deadline) throw error;
      return null;
    });
    if (identity) return identity;
    if (Date.now() > deadline)
      throw new Error(`${eventsTopic} has no identity yet (is the command processor running?)`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
