import { randomBytes } from 'node:crypto';
import type {
  DocumentWrite,
  Lookup,
  ProjectionDefinition,
  ProjectionDocument,
  Sink,
} from '@tidemark/projection-runtime';
import { Client } from 'memjs';
import { type MemcachedKeyspace, memcachedGenerationKey, memcachedKeyspace } from './keys';
import { BinaryProtocol, type McResponse, Status } from './protocol';

export interface MemcachedSinkOptions {
  /** 'host:port[,host:port...]'; used when no client is given (default 127.0.0.1:11211). */
  servers?: string;
  /** A memjs client to use; the sink then leaves it open on close(). */
  client?: Client;
  /** The context's partition count P: checkpoints() reads the P checkpoint keys (memcached cannot list keys). */
  partitions: number;
  /** Requests in flight at once while loading or committing a batch (default 512). */
  concurrency?: number;
  /** memcached's item size limit (-I; default 1 MiB): bigger documents are refused before anything is written. */
  maxItemBytes?: number;
}

/** The memcached sink, with the memcached keys it currently uses (for tests and tooling). */
export interface MemcachedSink<D extends ProjectionDocument = ProjectionDocument> extends Sink<D> {
  documentKey(partition: number, key: string): Promise<string>;
  checkpointKey(partition: number): Promise<string>;
}

export const DEFAULT_MAX_ITEM_BYTES = 1024 * 1024;
/** Per-item bookkeeping memcached counts against the item size limit (header, CAS, suffix); generous. */
const ITEM_OVERHEAD_BYTES = 96;
/** CAS conflicts in a row before a write gives up (each one means another writer won a race). */
const MAX_CAS_ATTEMPTS = 50;
/** Bound on the CAS hints kept between load() and commit(). */
const MAX_HINTS = 200_000;

/** What we know about an item: missing (null) or present with its CAS and position. */
type ItemState = null | { cas: Buffer; position: number };

interface StoredValue<D> {
  k: string;
  p: number;
  d: D | null;
}

/** Stored value of a document: `{"k":key,"p":position,"d":doc|null}`; `d: null` is a tombstone. */
export function encodeMemcachedValue(key: string, position: number, doc: ProjectionDocument | null): string {
  return JSON.stringify({ k: key, p: position, d: doc });
}

export function decodeMemcachedValue<D extends ProjectionDocument>(raw: Buffer | string): StoredValue<D> {
  const parsed: unknown = JSON.parse(raw.toString());
  if (typeof parsed === 'object' && parsed !== null && 'k' in parsed && 'p' in parsed && 'd' in parsed) {
    const { k, p, d } = parsed;
    if (
      typeof k === 'string' &&
      typeof p === 'number' &&
      (d === null || (typeof d === 'object' && !Array.isArray(d)))
    ) {
      return { k, p, d: d as D | null };
    }
  }
  throw new Error('memcached sink: unreadable stored value');
}

/** `{"k":"<key>","p":<position>,` at the start of a stored value: what a CAS decision needs. */
const HEAD = /^\{"k":("(?:[^"\\]|\\.)*"),"p":(\d+),/;

/** Key and position of a stored value without decoding its document (the write path's re-reads). */
export function decodeMemcachedHead(raw: Buffer): { k: string; p: number } {
  const match = HEAD.exec(raw.toString('utf8', 0, Math.min(raw.length, 4096)));
  if (match?.[1] !== undefined && match[2] !== undefined) {
    const k: unknown = JSON.parse(match[1]);
    if (typeof k === 'string') return { k, p: Number(match[2]) };
  }
  const { k, p } = decodeMemcachedValue(raw);
  return { k, p };
}

function checkPosition(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`memcached sink: ${what} must be a non-negative safe integer, got ${value}`);
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight (memjs pipelines them on its connection). */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function unexpected(operation: string, key: string, response: McResponse): Error {
  return new Error(
    `memcached sink: ${operation} ${key} failed with status 0x${response.status.toString(16)} (${response.value.toString()})`,
  );
}

class MemcachedSinkImpl<D extends ProjectionDocument> implements MemcachedSink<D> {
  readonly store = 'memcached' as const;
  private readonly mc: BinaryProtocol;
  private readonly generationKey: string;
  private readonly concurrency: number;
  private readonly maxItemBytes: number;
  private keyspace: Promise<MemcachedKeyspace> | undefined;
  /**
   * CAS and position of the items load() just read, so the commit that normally follows can CAS-set them in one
   * round trip. A stale hint only costs a CAS conflict and a re-read.
   */
  private readonly hints = new Map<string, ItemState>();

  constructor(
    private readonly definition: ProjectionDefinition<D>,
    private readonly client: Client,
    private readonly ownsClient: boolean,
    private readonly partitions: number,
    options: MemcachedSinkOptions,
  ) {
    if (!Number.isSafeInteger(partitions) || partitions < 1) {
      throw new Error(`memcached sink: partitions must be a positive integer, got ${partitions}`);
    }
    this.mc = new BinaryProtocol(client);
    this.generationKey = memcachedGenerationKey(definition);
    this.concurrency = Math.max(1, options.concurrency ?? 512);
    this.maxItemBytes = options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
  }

  async prepare(): Promise<void> {
    await this.refreshKeyspace();
  }

  async checkpoints(): Promise<Map<number, number>> {
    // Re-read the generation: another instance may have dropped the version since.
    const keys = await this.refreshKeyspace();
    const result = new Map<number, number>();
    const partitions = Array.from({ length: this.partitions }, (_, p) => p);
    await forEachLimited(partitions, this.concurrency, async (partition) => {
      const state = await this.readCheckpoint(keys.checkpointKey(partition));
      // A missing checkpoint (never written, or evicted) means start from 0: re-applying is idempotent.
      if (state) result.set(partition, state.position);
    });
    return new Map([...result].sort((a, b) => a[0] - b[0]));
  }

  async load(partition: number, keys: readonly string[]): Promise<Map<string, Lookup<D>>> {
    const space = await this.currentKeyspace();
    const found = new Map<string, Lookup<D>>();
    if (this.hints.size > MAX_HINTS) this.hints.clear();
    await forEachLimited(keys, this.concurrency, async (key) => {
      const itemKey = space.documentKey(partition, key);
      const response = await this.mc.get(itemKey);
      const lookup = this.lookup(partition, key, itemKey, response);
      found.set(key, lookup);
      if (typeof lookup === 'string') {
        if (response.status === Status.keyNotFound) this.hints.set(itemKey, null);
      } else {
        this.hints.set(itemKey, { cas: response.cas, position: lookup.position });
      }
    });
    // Answer in the order asked.
    return new Map(keys.map((key) => [key, found.get(key) ?? 'unknown']));
  }

  async commit(partition: number, writes: readonly DocumentWrite<D>[], checkpoint: number): Promise<void> {
    checkPosition('checkpoint', checkpoint);
    if (!Number.isSafeInteger(partition) || partition < 0 || partition >= this.partitions) {
      // checkpoints() reads partitions 0..P-1 only: a checkpoint outside them would never be found.
      throw new Error(`memcached sink: partition ${partition} is outside 0..${this.partitions - 1}`);
    }
    const space = await this.currentKeyspace();
    // Only the highest position of a key can survive, so send just that one (no self-inflicted CAS races).
    const latest = new Map<string, DocumentWrite<D>>();
    for (const write of writes) {
      checkPosition(`position of ${JSON.stringify(write.key)}`, write.position);
      const seen = latest.get(write.key);
      if (!seen || write.position > seen.position) latest.set(write.key, write);
    }
    // Encode and size-check everything before sending anything: an oversized document fails the whole batch.
    const items = [...latest.values()].map((write) => {
      const itemKey = space.documentKey(partition, write.key);
      const value = Buffer.from(encodeMemcachedValue(write.key, write.position, write.doc));
      if (value.length + itemKey.length + ITEM_OVERHEAD_BYTES > this.maxItemBytes) {
        throw new Error(
          `memcached sink: document ${JSON.stringify(write.key)} is too large for memcached ` +
            `(${value.length} bytes stored, item limit ${this.maxItemBytes} bytes)`,
        );
      }
      return { key: write.key, itemKey, position: write.position, value };
    });
    await forEachLimited(items, this.concurrency, async (item) => {
      const hint = this.hints.get(item.itemKey);
      this.hints.delete(item.itemKey);
      await this.storeIfNewer(item.itemKey, item.position, item.value, hint, (response) =>
        this.documentState(item.key, item.itemKey, response),
      );
    });
    // Documents first, then the checkpoint: a crash in between leaves documents ahead of the checkpoint,
    // which re-applying the batch from the old checkpoint skips.
    const checkpointKey = space.checkpointKey(partition);
    const checkpointHint = this.hints.get(checkpointKey);
    this.hints.delete(checkpointKey);
    await this.storeIfNewer(
      checkpointKey,
      checkpoint,
      Buffer.from(String(checkpoint)),
      checkpointHint,
      (response) => this.checkpointState(checkpointKey, response),
    );
  }

  async read(partition: number, key: string): Promise<Lookup<D>> {
    const space = await this.currentKeyspace();
    const itemKey = space.documentKey(partition, key);
    return this.lookup(partition, key, itemKey, await this.mc.get(itemKey));
  }

  /**
   * Memcached cannot enumerate keys, so a drop switches the version to a fresh random generation: every key of
   * the old one becomes unreachable and ages out of the LRU. The generation is random, not a counter, so a lost
   * (evicted) generation key can never bring an old generation back; losing it just empties the version.
   */
  async drop(): Promise<void> {
    const old = await this.refreshKeyspace();
    const generation = randomBytes(6).toString('base64url');
    const response = await this.mc.set(this.generationKey, Buffer.from(generation));
    if (response.status !== Status.ok) throw unexpected('set', this.generationKey, response);
    this.keyspace = Promise.resolve(memcachedKeyspace(this.definition, generation));
    this.hints.clear();
    // Tidy: the old checkpoints are tiny, but deleting them keeps stale readers from trusting them.
    const partitions = Array.from({ length: this.partitions }, (_, p) => p);
    await forEachLimited(partitions, this.concurrency, async (partition) => {
      await this.mc.delete(old.checkpointKey(partition));
    });
  }

  async close(): Promise<void> {
    this.hints.clear();
    if (this.ownsClient) this.client.close();
  }

  async documentKey(partition: number, key: string): Promise<string> {
    return (await this.currentKeyspace()).documentKey(partition, key);
  }

  async checkpointKey(partition: number): Promise<string> {
    return (await this.currentKeyspace()).checkpointKey(partition);
  }

  private currentKeyspace(): Promise<MemcachedKeyspace> {
    if (!this.keyspace) return this.refreshKeyspace();
    return this.keyspace;
  }

  /** Reads the version's generation, creating a random one if there is none yet (ADD: first creator wins). */
  private refreshKeyspace(): Promise<MemcachedKeyspace> {
    const loading = (async () => {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const got = await this.mc.get(this.generationKey);
        if (got.status === Status.ok) return memcachedKeyspace(this.definition, got.value.toString());
        if (got.status !== Status.keyNotFound) throw unexpected('get', this.generationKey, got);
        const added = await this.mc.add(
          this.generationKey,
          Buffer.from(randomBytes(6).toString('base64url')),
        );
        if (
          added.status !== Status.ok &&
          added.status !== Status.keyExists &&
          added.status !== Status.notStored
        ) {
          throw unexpected('add', this.generationKey, added);
        }
      }
      throw new Error(`memcached sink: could not read or create ${this.generationKey}`);
    })();
    this.keyspace = loading;
    // A failed read must not stick: the next call tries again.
    loading.catch(() => {
      if (this.keyspace === loading) this.keyspace = undefined;
    });
    return loading;
  }

  /**
   * Stores `value` at `key` unless the stored position is already >= `position`, with compare-and-set so a
   * concurrent writer is never overwritten blindly: ADD when missing, CAS-SET when present, re-read and retry
   * when either loses a race.
   */
  private async storeIfNewer(
    key: string,
    position: number,
    value: Buffer,
    hint: ItemState | undefined,
    stateOf: (response: McResponse) => ItemState,
  ): Promise<void> {
    let state = hint;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (state === undefined) state = stateOf(await this.mc.get(key));
      if (state !== null && state.position >= position) return;
      const response =
        state === null ? await this.mc.add(key, value) : await this.mc.set(key, value, state.cas);
      if (response.status === Status.ok) {
        // The answer carries the item's new CAS: the next write of this key (the partition's checkpoint, or a
        // document the projector already holds and so does not load) needs no read first.
        // A zero CAS would make the next SET unconditional: remember only a real one.
        if (response.cas.some((byte) => byte !== 0)) this.hints.set(key, { cas: response.cas, position });
        return;
      }
      if (response.status === Status.valueTooLarge) {
        throw new Error(`memcached sink: ${key} is too large for memcached (${value.length} bytes)`);
      }
      if (
        response.status !== Status.keyExists &&
        response.status !== Status.keyNotFound &&
        response.status !== Status.notStored
      ) {
        throw unexpected(state === null ? 'add' : 'cas', key, response);
      }
      state = undefined; // lost a race (or a stale hint): read again
    }
    throw new Error(`memcached sink: gave up on ${key} after ${MAX_CAS_ATTEMPTS} CAS conflicts`);
  }

  private documentState(key: string, itemKey: string, response: McResponse): ItemState {
    if (response.status === Status.keyNotFound) return null;
    if (response.status !== Status.ok) throw unexpected('get', itemKey, response);
    const stored = decodeMemcachedHead(response.value);
    if (stored.k !== key) {
      throw new Error(
        `memcached sink: key hash collision at ${itemKey}: holds ${JSON.stringify(stored.k)}, not ${JSON.stringify(key)}`,
      );
    }
    return { cas: response.cas, position: stored.p };
  }

  private checkpointState(itemKey: string, response: McResponse): ItemState {
    if (response.status === Status.keyNotFound) return null;
    if (response.status !== Status.ok) throw unexpected('get', itemKey, response);
    const position = Number(response.value.toString());
    if (!Number.isSafeInteger(position))
      throw new Error(`memcached sink: unreadable checkpoint at ${itemKey}`);
    return { cas: response.cas, position };
  }

  private async readCheckpoint(itemKey: string): Promise<ItemState> {
    return this.checkpointState(itemKey, await this.mc.get(itemKey));
  }

  private lookup(partition: number, key: string, itemKey: string, response: McResponse): Lookup<D> {
    // A miss may be an eviction: 'unknown', never 'absent' (the reader falls back to a view that knows).
    if (response.status === Status.keyNotFound) return 'unknown';
    if (response.status !== Status.ok) throw unexpected('get', itemKey, response);
    const stored = decodeMemcachedValue<D>(response.value);
    // Another key at our hashed address (a sha256 collision): we do not know ours.
    if (stored.k !== key) return 'unknown';
    return { key, partition, doc: stored.d, position: stored.p };
  }
}

/** The Memcached sink of a projection version (DESIGN.md, Projections and sinks: Memcached). */
export function createMemcachedSink<D extends ProjectionDocument = ProjectionDocument>(
  definition: ProjectionDefinition<D>,
  options: MemcachedSinkOptions,
): MemcachedSink<D> {
  if (options.client) {
    return new MemcachedSinkImpl(definition, options.client, false, options.partitions, options);
  }
  const client = Client.create(options.servers ?? '127.0.0.1:11211', {
    retries: 2,
    // memjs's default 0.5 s per request is tight for a deep pipeline of large values on a busy machine.
    timeout: 5,
    conntimeout: 5,
    keepAlive: true,
    logger: { log: () => undefined },
  });
  return new MemcachedSinkImpl(definition, client, true, options.partitions, options);
}
