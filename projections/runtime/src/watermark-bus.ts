/**
 * The watermark bus over Postgres LISTEN/NOTIFY (channel tidemark_watermarks). It only wakes readers: a lost
 * notification costs a reader some waiting, never correctness, because the stores' checkpoints stay the
 * authority and listeners reload them on reconnect.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { WatermarkBus, WatermarkUpdate } from './contracts';
import { PgListener } from './pg-listener';

export const WATERMARK_CHANNEL = 'tidemark_watermarks';
/** Postgres refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7900;

/** Compact wire form: [context, projection, version, partition, offset]. */
type WireUpdate = [string, string, number, number, number];

/** Splits updates into JSON array payloads that each stay under the NOTIFY limit. */
export function encodeWatermarkPayloads(updates: readonly WatermarkUpdate[]): string[] {
  const payloads: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const u of updates) {
    const item = JSON.stringify([
      u.context,
      u.projection,
      u.version,
      u.partition,
      u.offset,
    ] satisfies WireUpdate);
    const bytes = Buffer.byteLength(item) + 1;
    if (current.length > 0 && size + bytes > MAX_PAYLOAD_BYTES) {
      payloads.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) payloads.push(`[${current.join(',')}]`);
  return payloads;
}

export function decodeWatermarkPayload(payload: string): WatermarkUpdate[] {
  const parsed = JSON.parse(payload) as unknown;
  if (!Array.isArray(parsed)) return [];
  const out: WatermarkUpdate[] = [];
  for (const item of parsed) {
    if (!Array.isArray(item) || item.length !== 5) continue;
    const [context, projection, version, partition, offset] = item as WireUpdate;
    out.push({ context, projection, version, partition, offset });
  }
  return out;
}

export interface PostgresWatermarkBusOptions {
  connectionString: string;
  logger: Logger;
}

export class PostgresWatermarkBus implements WatermarkBus {
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private listener: PgListener | null = null;
  private starting: Promise<PgListener> | null = null;
  private readonly subscribers = new Set<{
    listener: (u: WatermarkUpdate) => void;
    onReconnect?: () => void;
  }>();

  constructor(private readonly options: PostgresWatermarkBusOptions) {
    this.logger = options.logger.child({ component: 'watermark-bus' });
    // Several projections of one process publish through it at once: enough connections not to queue behind each other.
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 4 });
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'idle publish connection failed'));
  }

  async publish(updates: readonly WatermarkUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const payloads = encodeWatermarkPayloads(updates);
    if (payloads.length === 1) {
      await this.pool.query('select pg_notify($1, $2)', [WATERMARK_CHANNEL, payloads[0]]);
      return;
    }
    await this.pool.query(`select pg_notify($1, p) from unnest($2::text[]) as p`, [
      WATERMARK_CHANNEL,
      payloads,
    ]);
  }

  async subscribe(
    listener: (update: WatermarkUpdate) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>> {
    const entry = { listener, ...(onReconnect ? { onReconnect } : {}) };
    this.subscribers.add(entry);
    try {
      await this.ensureListening();
    } catch (error) {
      this.subscribers.delete(entry);
      throw error;
    }
    return async () => {
      this.subscribers.delete(entry);
    };
  }

  private ensureListening(): Promise<PgListener> {
    if (this.listener) return Promise.resolve(this.listener);
    this.starting ??= PgListener.start({
      connectionString: this.options.connectionString,
      channel: WATERMARK_CHANNEL,
      logger: this.logger,
      onNotification: (payload) => this.deliver(payload),
      onReconnect: () => {
        for (const s of this.subscribers) {
          try {
            s.onReconnect?.();
          } catch (error) {
            this.logger.warn({ err: error }, 'watermark reconnect listener failed');
          }
        }
      },
    }).then(
      (listener) => {
        this.listener = listener;
        this.starting = null;
        return listener;
      },
      (error: unknown) => {
        this.starting = null;
        throw error;
      },
    );
    return this.starting;
  }

  private deliver(payload: string): void {
    let updates: WatermarkUpdate[];
    try {
      updates = decodeWatermarkPayload(payload);
    } catch (error) {
      this.logger.warn({ err: error }, 'unreadable watermark notification ignored');
      return;
    }
    for (const update of updates) {
      for (const s of this.subscribers) {
        try {
          s.listener(update);
        } catch (error) {
          this.logger.warn({ err: error }, 'watermark listener failed');
        }
      }
    }
  }

  /** For tests: the LISTEN connection's backend pid. */
  async listenerBackendPid(): Promise<number | null> {
    return (await this.listener?.backendPid()) ?? null;
  }

  async close(): Promise<void> {
    this.subscribers.clear();
    const listener = this.listener ?? (await this.starting?.catch(() => null)) ?? null;
    this.listener = null;
    await listener?.close();
    await this.pool.end();
  }
}

export function createPostgresWatermarkBus(options: PostgresWatermarkBusOptions): PostgresWatermarkBus {
  return new PostgresWatermarkBus(options);
}
