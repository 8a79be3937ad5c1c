/**
 * Topic registry persisted in <dataDir>/topics.json (replaced atomically: temp file, fsync, rename, fsync dir).
 * The file is the commit point: partition directories are created before a topic is recorded and removed after
 * it is forgotten; directories the file does not account for are removed when the storage opens.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '@tidemark/kafka-protocol';
import type { Logger } from 'pino';
import type { TopicMetadata, TopicRegistry } from '../contracts';
import { isErrnoException, writeFileAtomic } from './fs-util';
import type { DiskLogStore } from './log-store';

const FILE_VERSION = 1;
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

interface TopicsFile {
  version: number;
  topics: TopicMetadata[];
}

export function validateTopicName(name: string): void {
  if (name.length === 0 || name.length > 249 || name === '.' || name === '..' || !TOPIC_NAME.test(name)) {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `invalid topic name '${name}'`);
  }
}

const NUMERIC_CONFIGS: Record<string, { min: number; allowMinusOne: boolean }> = {
  'segment.bytes': { min: 14, allowMinusOne: false },
  'retention.bytes': { min: 0, allowMinusOne: true },
  'retention.ms': { min: 0, allowMinusOne: true },
  'max.message.bytes': { min: 0, allowMinusOne: false },
};

function validateConfigs(configs: Record<string, string>): void {
  for (const [key, value] of Object.entries(configs)) {
    const rule = NUMERIC_CONFIGS[key];
    if (rule === undefined) continue;
    const n = Number(value);
    const ok =
      value.trim() !== '' && Number.isSafeInteger(n) && (n >= rule.min || (rule.allowMinusOne && n === -1));
    if (!ok) throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value '${value}' for ${key}`);
  }
}

export class DiskTopicRegistry implements TopicRegistry {
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly file: string;
  /** Serializes create/delete (and their file writes). */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly log: DiskLogStore,
    private readonly logger: Logger,
  ) {
    this.file = join(dataDir, 'topics.json');
  }

  /** Reads topics.json (absent: no topics). */
  async load(): Promise<TopicMetadata[]> {
    await fsp.rm(`${this.file}.tmp`, { force: true });
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if (isErrnoException(err, 'ENOENT')) return [];
      throw err;
    }
    const parsed = JSON.parse(text) as TopicsFile;
    if (parsed.version !== FILE_VERSION || !Array.isArray(parsed.topics)) {
      throw new Error(`${this.file}: unsupported format`);
    }
    for (const t of parsed.topics) this.topics.set(t.name, t);
    return [...this.topics.values()];
  }

  list(): TopicMetadata[] {
    return [...this.topics.values()].map((t) => ({ ...t, configs: { ...t.configs } }));
  }

  get(name: string): TopicMetadata | undefined {
    const t = this.topics.get(name);
    return t === undefined ? undefined : { ...t, configs: { ...t.configs } };
  }

  create(
    name: string,
    partitionCount: number,
    options?: { replicationFactor?: number; configs?: Record<string, string>; validateOnly?: boolean },
  ): Promise<TopicMetadata> {
    return this.serialize(async () => {
      validateTopicName(name);
      if (!Number.isInteger(partitionCount) || partitionCount < 1) {
        throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `invalid partition count ${partitionCount}`);
      }
      const rf = options?.replicationFactor;
      if (rf !== undefined && rf !== -1 && rf !== 1) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `replication factor ${rf}: this broker has one node`,
        );
      }
      if (this.topics.has(name))
        throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`);
      const configs = { ...(options?.configs ?? {}) };
      validateConfigs(configs);
      const meta: TopicMetadata = {
        name,
        topicId: randomUUID(),
        partitionCount,
        configs,
        createdAtMs: Date.now(),
      };
      if (options?.validateOnly) return { ...meta, configs: { ...configs } };

      const logs = await this.log.createPartitions(meta);
      this.topics.set(name, meta);
      try {
        await this.persist();
      } catch (err) {
        this.topics.delete(name);
        this.log.addTopic(name, logs);
        await this.log.removeTopic(name, partitionCount).catch(() => undefined);
        throw err;
      }
      this.log.addTopic(name, logs);
      this.logger.info({ topic: name, partitionCount, topicId: meta.topicId }, 'topic created');
      return { ...meta, configs: { ...configs } };
    });
  }

  delete(name: string): Promise<void> {
    return this.serialize(async () => {
      const meta = this.topics.get(name);
      if (meta === undefined)
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic '${name}'`);
      this.topics.delete(name);
      try {
        await this.persist();
      } catch (err) {
        this.topics.set(name, meta);
        throw err;
      }
      await this.log.removeTopic(name, meta.partitionCount);
      this.logger.info({ topic: name }, 'topic deleted');
    });
  }

  private persist(): Promise<void> {
    const body: TopicsFile = { version: FILE_VERSION, topics: [...this.topics.values()] };
    return writeFileAtomic(this.file, `${JSON.stringify(body, null, 2)}\n`);
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}
