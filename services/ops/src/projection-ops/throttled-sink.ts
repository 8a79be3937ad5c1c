/**
 * A sink that lets at most `eventsPerSecond` log offsets through its commits: `tidemark replay
 * --max-events-per-second` uses it so that a rebuild does not starve the live projectors of the store (and so
 * that tests have a "halfway" to kill a replay at). Everything else is the wrapped sink's.
 */
import type { DocumentWrite, Lookup, ProjectionDocument, Sink } from '@tidemark/projection-runtime';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ThrottledSink<D extends ProjectionDocument = ProjectionDocument> implements Sink<D> {
  readonly store: Sink<D>['store'];
  readonly activate?: Sink<D>['activate'];
  /** Last checkpoint committed (or read) per partition: a commit's cost is how far it moves it. */
  private readonly positions = new Map<number, number>();
  /** When the next offset may be committed (ms since epoch). */
  private nextFree = 0;

  constructor(
    private readonly inner: Sink<D>,
    private readonly eventsPerSecond: number,
  ) {
    if (!(eventsPerSecond > 0)) throw new Error('eventsPerSecond must be positive');
    this.store = inner.store;
    // Optional in the store: the wrapper has it exactly when the wrapped sink does.
    const activate = inner.activate;
    if (activate) this.activate = () => activate.call(inner);
  }

  prepare(): Promise<void> {
    return this.inner.prepare();
  }

  async checkpoints(): Promise<Map<number, number>> {
    const checkpoints = await this.inner.checkpoints();
    for (const [partition, checkpoint] of checkpoints) {
      if (checkpoint > (this.positions.get(partition) ?? -1)) this.positions.set(partition, checkpoint);
    }
    return checkpoints;
  }

  load(partition: number, keys: readonly string[]): Promise<Map<string, Lookup<D>>> {
    return this.inner.load(partition, keys);
  }

  async commit(partition: number, writes: readonly DocumentWrite<D>[], checkpoint: number): Promise<void> {
    const from = this.positions.get(partition) ?? 0;
    const cost = Math.max(0, checkpoint - from);
    const now = Date.now();
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (cost * 1000) / this.eventsPerSecond;
    // Pay after the fact for what this commit moves: the wait before it is what earlier commits cost.
    if (start > now) await sleep(start - now);
    await this.inner.commit(partition, writes, checkpoint);
    if (checkpoint > from) this.positions.set(partition, checkpoint);
  }

  read(partition: number, key: string): Promise<Lookup<D>> {
    return this.inner.read(partition, key);
  }

  drop(): Promise<void> {
    return this.inner.drop();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
