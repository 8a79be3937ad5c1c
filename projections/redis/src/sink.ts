import type {
  DocumentWrite,
  Lookup,
  ProjectionDefinition,
  ProjectionDocument,
  Sink,
  StoredDocument,
} from '@tidemark/projection-runtime';
import { Redis } from 'ioredis';
import { type RedisKeyspace, redisKeyspace } from './keys';
import { COMMIT_SCRIPT, COMMIT_SCRIPT_SHA1 } from './script';

export interface RedisSinkOptions {
  /** redis://host:port; used when no client is given (default redis://127.0.0.1:6379). */
  url?: string;
  /** A connected client to use; the sink then leaves it open on close(). */
  client?: Redis;
}

/**
 * Stored value of a document: compact JSON `{"p":<position>,"d":<doc or null>}`. A string rather than a hash so
 * load() is one MGET over the partition's keys, and position first so the commit script reads it with an
 * anchored match without decoding the document. `d: null` is a tombstone.
 */
export function encodeRedisValue(position: number, doc: ProjectionDocument | null): string {
  return `{"p":${position},"d":${JSON.stringify(doc)}}`;
}

export function decodeRedisValue<D extends ProjectionDocument>(
  raw: string,
  where: string,
): { position: number; doc: D | null } {
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed === 'object' && parsed !== null && 'p' in parsed && 'd' in parsed) {
    const { p, d } = parsed;
    if (typeof p === 'number' && (d === null || (typeof d === 'object' && !Array.isArray(d)))) {
      return { position: p, doc: d as D | null };
    }
  }
  throw new Error(`redis sink: unreadable stored value at ${where}`);
}

function checkPosition(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`redis sink: ${what} must be a non-negative safe integer, got ${value}`);
  }
}

class RedisSink<D extends ProjectionDocument> implements Sink<D> {
  readonly store = 'redis' as const;
  private readonly keys: RedisKeyspace;

  constructor(
    definition: ProjectionDefinition<D>,
    private readonly client: Redis,
    private readonly ownsClient: boolean,
  ) {
    this.keys = redisKeyspace(definition);
  }

  async prepare(): Promise<void> {
    // Key prefixes need no creation; loading the script up front saves the NOSCRIPT round trip later.
    await this.client.script('LOAD', COMMIT_SCRIPT);
  }

  async checkpoints(): Promise<Map<number, number>> {
    const members = await this.client.smembers(this.keys.registryKey);
    const partitions = members.map(Number).filter((p) => Number.isSafeInteger(p) && p >= 0);
    // One GET per partition (not MGET): the checkpoint keys live in different slots of a cluster.
    const values = await Promise.all(partitions.map((p) => this.client.get(this.keys.checkpointKey(p))));
    const result = new Map<number, number>();
    partitions.forEach((partition, i) => {
      const value = values[i];
      // Registered but not yet committed (the SADD precedes the script) means "never written".
      if (value !== null && value !== undefined) result.set(partition, Number(value));
    });
    return result;
  }

  async load(partition: number, keys: readonly string[]): Promise<Map<string, Lookup<D>>> {
    const result = new Map<string, Lookup<D>>();
    if (keys.length === 0) return result;
    // A partition's keys share one slot, so one MGET answers them all.
    const values = await this.client.mget(keys.map((key) => this.keys.documentKey(partition, key)));
    keys.forEach((key, i) => {
      result.set(key, this.lookup(partition, key, values[i] ?? null));
    });
    return result;
  }

  async commit(partition: number, writes: readonly DocumentWrite<D>[], checkpoint: number): Promise<void> {
    checkPosition('checkpoint', checkpoint);
    const keys: string[] = [this.keys.checkpointKey(partition)];
    const args: string[] = [String(checkpoint)];
    // Everything is encoded before anything is sent: a bad write fails the batch before it touches the store.
    for (const write of writes) {
      checkPosition(`position of ${JSON.stringify(write.key)}`, write.position);
      keys.push(this.keys.documentKey(partition, write.key));
      args.push(String(write.position), encodeRedisValue(write.position, write.doc));
    }
    // The registry lives in another slot than the partition, so it cannot join the script. Sent on every
    // commit (pipelined ahead of the script, no extra round trip), so a drop by another instance can never
    // leave a checkpoint that checkpoints() does not list.
    await Promise.all([
      this.client.sadd(this.keys.registryKey, String(partition)),
      this.runScript(keys, args),
    ]);
  }

  /** One script per batch, unchunked: chunks would break all-or-nothing; Lua handles 5,000+ keys easily. */
  private async runScript(keys: readonly string[], args: readonly string[]): Promise<void> {
    try {
      await this.client.evalsha(COMMIT_SCRIPT_SHA1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      await this.client.eval(COMMIT_SCRIPT, keys.length, ...keys, ...args);
    }
  }

  async read(partition: number, key: string): Promise<Lookup<D>> {
    return this.lookup(partition, key, await this.client.get(this.keys.documentKey(partition, key)));
  }

  async drop(): Promise<void> {
    const stream = this.client.scanStream({ match: this.keys.partitionKeysPattern, count: 1000 });
    for await (const batch of stream as AsyncIterable<string[]>) {
      if (batch.length > 0) await this.client.unlink(...batch);
    }
    // The registry goes last: a drop interrupted half-way can simply be run again.
    await this.client.unlink(this.keys.registryKey);
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private lookup(partition: number, key: string, raw: string | null): Lookup<D> {
    // Redis is durable (AOF), so a missing key was never written: 'absent', not 'unknown'.
    if (raw === null) return 'absent';
    const { position, doc } = decodeRedisValue<D>(raw, this.keys.documentKey(partition, key));
    const stored: StoredDocument<D> = { key, partition, doc, position };
    return stored;
  }
}

/** The Redis sink of a projection version (DESIGN.md, Projections and sinks: Redis). */
export function createRedisSink<D extends ProjectionDocument = ProjectionDocument>(
  definition: ProjectionDefinition<D>,
  options: RedisSinkOptions = {},
): Sink<D> {
  if (options.client) return new RedisSink(definition, options.client, false);
  const client = new Redis(options.url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
  return new RedisSink(definition, client, true);
}
