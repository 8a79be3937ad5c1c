/**
 * What a projector reports of its partitions: the watermark (next offset not applied), the log end and the lag
 * between them, and the partitions halted by a poison event; kept in memory for status and waiters, and in the
 * projector's Prometheus gauges.
 */
import { EventEmitter } from 'node:events';
import type { ProjectorMetrics } from './projector-metrics';
import { type MetricProjection, partitionLabels } from './projector-metrics';

export interface PartitionHalt {
  offset: number;
  error: string;
}

export class ProjectorProgress {
  private readonly watermarks = new Map<number, number>();
  private readonly logEnds = new Map<number, number>();
  private readonly halts = new Map<number, PartitionHalt>();
  private readonly emitter = new EventEmitter();

  constructor(
    private readonly projection: MetricProjection,
    private readonly metrics: ProjectorMetrics,
  ) {
    this.emitter.setMaxListeners(0);
  }

  setWatermark(partition: number, offset: number): void {
    this.watermarks.set(partition, offset);
    this.metrics.watermark.set(partitionLabels(this.projection, partition), offset);
    this.updateLag(partition);
    this.emitter.emit('watermark');
  }

  setLogEnd(partition: number, offset: number): void {
    this.logEnds.set(partition, offset);
    this.updateLag(partition);
  }

  private updateLag(partition: number): void {
    const end = this.logEnds.get(partition);
    if (end === undefined) return;
    this.metrics.lag.set(
      partitionLabels(this.projection, partition),
      Math.max(0, end - (this.watermarks.get(partition) ?? 0)),
    );
  }

  setHalted(partition: number, halt: PartitionHalt | null): void {
    if (halt) this.halts.set(partition, halt);
    else this.halts.delete(partition);
    this.metrics.halted.set(partitionLabels(this.projection, partition), halt ? 1 : 0);
  }

  /** The partition's halt (stop policy), or undefined while it runs. */
  halt(partition: number): PartitionHalt | undefined {
    return this.halts.get(partition);
  }

  /** How many partitions are halted. */
  get haltedCount(): number {
    return this.halts.size;
  }

  isHalted(partition: number): boolean {
    return this.halts.has(partition);
  }

  /** The halted partitions (a copy: safe to change halts while iterating it). */
  haltedPartitions(): number[] {
    return [...this.halts.keys()];
  }

  watermarkOf(partition: number): number | undefined {
    return this.watermarks.get(partition);
  }

  logEndOf(partition: number): number | undefined {
    return this.logEnds.get(partition);
  }

  /** partition -> next offset not applied (a copy). */
  watermark(): Map<number, number> {
    return new Map(this.watermarks);
  }

  /** partition -> log end minus watermark, for partitions whose log end is known. */
  lag(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [partition, end] of this.logEnds) {
      out.set(partition, Math.max(0, end - (this.watermarks.get(partition) ?? 0)));
    }
    return out;
  }

  /** Resolves once the watermark is >= `positions` on every partition given; rejects after `timeoutMs`. */
  waitFor(
    positions: ReadonlyMap<number, number> | Readonly<Record<number, number>>,
    timeoutMs: number,
  ): Promise<void> {
    const wanted: [number, number][] =
      positions instanceof Map
        ? [...positions]
        : Object.entries(positions).map(([p, o]) => [Number(p), Number(o)] as [number, number]);
    const covered = () => wanted.every(([p, o]) => (this.watermarks.get(p) ?? 0) >= o);
    if (covered()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onWatermark = () => {
        if (!covered()) return;
        clearTimeout(timer);
        this.emitter.off('watermark', onWatermark);
        resolve();
      };
      const timer = setTimeout(() => {
        this.emitter.off('watermark', onWatermark);
        reject(
          new Error(
            `watermark ${JSON.stringify([...this.watermarks])} did not reach ${JSON.stringify(wanted)} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.emitter.on('watermark', onWatermark);
    });
  }
}
