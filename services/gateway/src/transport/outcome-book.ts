import type { CommandOutcome } from '@tidemark/schemas';

interface Waiter {
  resolve(outcome: CommandOutcome | null): void;
  timer: NodeJS.Timeout | undefined;
}

export const DEFAULT_OUTCOME_CACHE_SIZE = 100_000;

/**
 * The outcomes a transport has seen (a bounded LRU) and the callers waiting for one. Waiters are registered
 * synchronously, several waiters for one command all get the same outcome, and the first outcome recorded for
 * a command id is the one kept (a retried command gets exactly the first outcome again).
 */
export class OutcomeBook {
  private readonly seen = new Map<string, CommandOutcome>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private closed = false;

  constructor(private readonly capacity = DEFAULT_OUTCOME_CACHE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error('the outcome cache needs a positive size');
  }

  /** Number of callers currently waiting. */
  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  get size(): number {
    return this.seen.size;
  }

  wait(context: string, commandId: string, timeoutMs: number): Promise<CommandOutcome | null> {
    const known = this.lookup(context, commandId);
    if (known || this.closed || !(timeoutMs > 0)) return Promise.resolve(known);
    const key = keyOf(context, commandId);
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, timer: undefined };
      let set = this.waiters.get(key);
      if (!set) {
        set = new Set();
        this.waiters.set(key, set);
      }
      set.add(waiter);
      waiter.timer = setTimeout(() => {
        const current = this.waiters.get(key);
        current?.delete(waiter);
        if (current?.size === 0) this.waiters.delete(key);
        resolve(null);
      }, timeoutMs);
    });
  }

  /** Records an outcome (the first one for a command id wins) and wakes its waiters; returns the kept outcome. */
  record(context: string, outcome: CommandOutcome): CommandOutcome {
    const key = keyOf(context, outcome.commandId);
    const kept = this.seen.get(key) ?? outcome;
    this.seen.delete(key);
    this.seen.set(key, kept);
    while (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
    const set = this.waiters.get(key);
    if (set) {
      this.waiters.delete(key);
      for (const waiter of set) {
        clearTimeout(waiter.timer);
        waiter.resolve(kept);
      }
    }
    return kept;
  }

  lookup(context: string, commandId: string): CommandOutcome | null {
    const key = keyOf(context, commandId);
    const outcome = this.seen.get(key);
    if (!outcome) return null;
    this.seen.delete(key);
    this.seen.set(key, outcome);
    return outcome;
  }

  /** Resolves every waiter with null and refuses new waits. */
  close(): void {
    this.closed = true;
    for (const set of this.waiters.values()) {
      for (const waiter of set) {
        clearTimeout(waiter.timer);
        waiter.resolve(null);
      }
    }
    this.waiters.clear();
  }
}

function keyOf(context: string, commandId: string): string {
  return `${context}\u0000${commandId}`;
}
