/**
 * One queue per partition: a projector's batches, their pipelined commits, dead-letter polls and replays, and
 * side-effect catch-ups of one partition run one after the other, never interleaved.
 */
export class PartitionLocks {
  private readonly tails = new Map<number, Promise<unknown>>();

  /** Runs `task` after every earlier task of the partition (whether those failed or not). */
  run<T>(partition: number, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(partition) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.tails.set(partition, settled);
    void settled.then(() => {
      if (this.tails.get(partition) === settled) this.tails.delete(partition);
    });
    return next;
  }

  /** Resolves once the tasks queued so far have settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
