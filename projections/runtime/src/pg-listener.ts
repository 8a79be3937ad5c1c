/**
 * A dedicated pg.Client that LISTENs on one channel and reconnects with backoff when the connection is lost
 * (Postgres restart, network). Notifications sent while disconnected are lost, so `onReconnect` tells the owner
 * to reload from the authority (the stores' checkpoints, the control table).
 */
import pg from 'pg';
import type { Logger } from 'pino';

export interface PgListenerOptions {
  connectionString: string;
  channel: string;
  logger: Logger;
  onNotification(payload: string): void;
  onReconnect(): void;
  /** First retry delay; doubles up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export class PgListener {
  private client: pg.Client | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;

  private constructor(private readonly options: PgListenerOptions) {}

  static async start(options: PgListenerOptions): Promise<PgListener> {
    const listener = new PgListener(options);
    await listener.connect();
    return listener;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.options.onNotification(message.payload ?? '');
    });
    client.on('error', (error) => {
      this.options.logger.warn({ err: error, channel: this.options.channel }, 'listen connection failed');
      this.lost(client);
    });
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.reconnect(0);
  }

  private reconnect(attempt: number): void {
    if (this.closed || this.retryTimer) return;
    const base = this.options.backoffMs ?? 200;
    const delay = Math.min(base * 2 ** attempt, this.options.maxBackoffMs ?? 5000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closed) return;
      this.connect().then(
        () => {
          if (this.closed) return;
          this.options.logger.info({ channel: this.options.channel, attempt }, 'listen connection restored');
          this.options.onReconnect();
        },
        (error: unknown) => {
          this.options.logger.warn({ err: error, attempt }, 'listen reconnect failed; retrying');
          this.reconnect(attempt + 1);
        },
      );
    }, delay);
  }

  /** For tests: the backend pid of the LISTEN connection (to terminate it). */
  async backendPid(): Promise<number | null> {
    if (!this.client) return null;
    const result = await this.client.query<{ pid: number }>('select pg_backend_pid() as pid');
    return result.rows[0]?.pid ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}
