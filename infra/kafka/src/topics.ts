/**
 * Topic provisioning for a context: <ctx>.commands, <ctx>.events, <ctx>.command-results and
 * <ctx>.processor-snapshots, all with the same P partitions (DESIGN.md, Partitions). P is fixed per context:
 * existing topics with another partition count are refused, never altered.
 */

import { TidemarkError } from '@tidemark/schemas';
import type { Admin } from 'kafkajs';

export interface ContextTopics {
  commands: string;
  events: string;
  results: string;
  snapshots: string;
}

export function contextTopics(context: string): ContextTopics {
  return {
    commands: `${context}.commands`,
    events: `${context}.events`,
    results: `${context}.command-results`,
    snapshots: `${context}.processor-snapshots`,
  };
}

export interface ProvisionOptions {
  partitions: number;
  /** -1: the cluster default (3 in the docker-compose stack, 1 on the embedded broker). */
  replicationFactor?: number;
}

/** Creates the context's topics where missing; refuses to go on when an existing one has another P. */
export async function provisionContextTopics(
  admin: Admin,
  context: string,
  options: ProvisionOptions,
): Promise<ContextTopics> {
  const topics = contextTopics(context);
  const names = Object.values(topics);
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: options.partitions,
        replicationFactor: options.replicationFactor ?? -1,
        // Only the latest snapshot per partition key matters, and a snapshot of a busy partition outgrows
        // Kafka's default 1 MB record limit.
        configEntries:
          topic === topics.snapshots
            ? [
                { name: 'cleanup.policy', value: 'compact' },
                { name: 'max.message.bytes', value: String(64 * 1024 * 1024) },
              ]
            : [],
      })),
    });
  }
  const metadata = await admin.fetchTopicMetadata({ topics: names });
  const mismatched = metadata.topics
    .filter((topic) => topic.partitions.length !== options.partitions)
    .map((topic) => `${topic.name} has ${topic.partitions.length}`);
  if (mismatched.length > 0) {
    throw new TidemarkError(
      'PARTITION_COUNT_MISMATCH',
      `context ${context} is configured with ${options.partitions} partitions but ${mismatched.join(', ')}; ` +
        'the partition count of a context cannot change (aggregates would move partitions)',
      500,
      false,
    );
  }
  return topics;
}
