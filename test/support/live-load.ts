/**
 * Live command traffic for tests and benchmarks: clients that publish listings (a share of them in a given
 * category), change prices, update details, withdraw and sell, through the gateway. It can be paused (to let
 * views settle at a fixed log end) and resumed.
 */
import { postCommand, publishPayload } from './platform';

export interface LiveLoadOptions {
  gateway: string;
  apiKey: string;
  clients: number;
  /** Prefix of aggregate and seller ids, unique per run. */
  runId: string;
  /** Categories published in turn. */
  categories: readonly string[];
  /** Stop after this many commands (default: until stop()). */
  maxCommands?: number;
}

export class LiveLoad {
  /** Commands answered, by HTTP status. */
  readonly statuses = new Map<number, number>();
  readonly unexpected: string[] = [];
  private stopping = false;
  private paused: Promise<void> | null = null;
  private resumePaused: (() => void) | null = null;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  private sent = 0;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: LiveLoadOptions) {}

  get answered(): number {
    let n = 0;
    for (const count of this.statuses.values()) n += count;
    return n;
  }

  start(): this {
    this.running = Promise.all(
      Array.from({ length: this.options.clients }, (_, client) => this.client(client)),
    ).then(() => undefined);
    return this;
  }

  /** Resolves once `count` commands were answered. */
  async waitForAnswered(count: number): Promise<void> {
    while (this.answered < count) {
      if (this.unexpected.length > 0) throw new Error(`live load failed: ${this.unexpected[0]}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops sending and resolves once no command is in flight (every sent command was answered). */
  async pause(): Promise<void> {
    if (!this.paused) {
      this.paused = new Promise<void>((resolve) => {
        this.resumePaused = resolve;
      });
    }
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
      });
    }
  }

  resume(): void {
    const resume = this.resumePaused;
    this.paused = null;
    this.resumePaused = null;
    resume?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.resume();
    await this.running;
  }

  private async client(client: number): Promise<void> {
    const { runId, categories } = this.options;
    const listings: { id: string; price: number; open: boolean }[] = [];
    for (let i = 0; !this.stopping; i++) {
      if (this.paused) await this.paused;
      if (this.stopping) break;
      if (this.options.maxCommands !== undefined && this.sent >= this.options.maxCommands) break;
      this.sent++;
      const open = listings.filter((l) => l.open);
      const target = open[(i * 7) % Math.max(1, open.length)];
      const roll = (i * 7919 + client * 31) % 100;
      let body: Record<string, unknown>;
      if (!target || roll < 35) {
        const id = `${runId}-${client}-${listings.length}`;
        const price = 1_000 + ((i * 1_237 + client * 101) % 90_000);
        listings.push({ id, price, open: true });
        body = {
          type: 'PublishListing',
          aggregateId: id,
          expectedVersion: 'new',
          payload: publishPayload(
            `${runId}-seller-${client % 7}`,
            price,
            categories[(i + client) % categories.length],
          ),
        };
      } else if (roll < 60) {
        target.price += 17;
        body = { type: 'ChangePrice', aggregateId: target.id, payload: { priceCents: target.price } };
      } else if (roll < 80) {
        body = {
          type: 'UpdateDetails',
          aggregateId: target.id,
          payload: { title: `Updated ${i}`, location: { country: 'NL', city: `City ${i % 7}` } },
        };
      } else if (roll < 90) {
        target.open = false;
        body = { type: 'WithdrawListing', aggregateId: target.id, payload: { reason: 'changed my mind' } };
      } else {
        target.open = false;
        body = {
          type: 'MarkSold',
          aggregateId: target.id,
          payload: { priceCents: target.price - 1, buyerId: `${runId}-buyer` },
        };
      }
      this.inFlight++;
      try {
        const answer = await postCommand(this.options.gateway, this.options.apiKey, 'listings', body);
        this.statuses.set(answer.status, (this.statuses.get(answer.status) ?? 0) + 1);
        if (answer.status !== 200 && answer.status !== 409 && answer.status !== 422) {
          this.unexpected.push(`${answer.status} ${JSON.stringify(answer.body)}`);
        }
      } catch (error) {
        this.unexpected.push(String(error));
      } finally {
        this.inFlight--;
        if (this.inFlight === 0 && this.idle) {
          const idle = this.idle;
          this.idle = null;
          idle();
        }
      }
    }
  }
}
