/**
 * Disk storage: the topic registry and the partition logs.
 *
 *   <dataDir>/topics.json                              topic registry (atomic replace)
 *   <dataDir>/logs/<topic>-<partition>/<base>.log      record batches as received, baseOffset assigned
 *   <dataDir>/logs/<topic>-<partition>/<base>.index    sparse index (rebuilt on open, never trusted)
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BrokerConfig, BrokerMetrics, TopicMetadata } from '../contracts';
import { fsyncDir } from './fs-util';
import { DiskLogStore } from './log-store';
import { DiskTopicRegistry } from './topic-registry';

export { DiskLogStore } from './log-store';
export { DiskTopicRegistry } from './topic-registry';

export interface Storage {
  topics: DiskTopicRegistry;
  log: DiskLogStore;
  close(): Promise<void>;
}

export async function openStorage(
  config: BrokerConfig,
  deps: { logger: Logger; metrics: BrokerMetrics },
): Promise<Storage> {
  const logger = deps.logger.child({ component: 'storage' });
  const logsDir = join(config.dataDir, 'logs');
  await fsp.mkdir(logsDir, { recursive: true });
  await fsyncDir(config.dataDir);
  const log = new DiskLogStore(config, logger, deps.metrics);
  const topics = new DiskTopicRegistry(config.dataDir, log, logger);
  const known = await topics.load();
  await removeOrphans(logsDir, known, logger);
  await log.load(known);
  log.startRetentionTimer();
  let closing: Promise<void> | null = null;
  return {
    topics,
    log,
    close: () => {
      closing ??= log.close();
      return closing;
    },
  };
}

/** Partition directories that topics.json does not account for: left over from an interrupted create/delete. */
async function removeOrphans(logsDir: string, known: TopicMetadata[], logger: Logger): Promise<void> {
  const counts = new Map(known.map((t) => [t.name, t.partitionCount]));
  for (const entry of await fsp.readdir(logsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const m = /^(.+)-(\d+)$/.exec(entry.name);
    const topic = m?.[1];
    const count = topic === undefined ? undefined : counts.get(topic);
    if (count !== undefined && Number(m?.[2]) < count) continue;
    logger.warn({ dir: entry.name }, 'removing a partition directory of no registered topic');
    await fsp.rm(join(logsDir, entry.name), { recursive: true, force: true });
  }
}
