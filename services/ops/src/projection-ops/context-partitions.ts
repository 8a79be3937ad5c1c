/** P of a context, read from the broker: what DeploymentOps gives each context's ProjectionOps. */
import { contextTopics, createKafka } from '@tidemark/kafka';
import type { Logger } from 'pino';

/** P of a context, from the broker's metadata of `<ctx>.events` (null when the topic does not exist yet). */
export async function partitionsOfContext(
  brokers: string[],
  context: string,
  logger: Logger,
): Promise<number | null> {
  const admin = createKafka({ brokers, clientId: 'tidemark-ops', logger }).admin();
  await admin.connect();
  try {
    const topic = contextTopics(context).events;
    if (!(await admin.listTopics()).includes(topic)) return null;
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = metadata.topics[0]?.partitions.length ?? 0;
    return count > 0 ? count : null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
