import { apiName, errorName } from '@tidemark/kafka-protocol';
import { Counter, collectDefaultMetrics, Gauge, Registry, Summary } from 'prom-client';
import type { BrokerMetrics, GroupCoordinator, GroupState, LogStore } from '../contracts';

const GROUP_STATES: GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

/** Prometheus metrics of one broker; partition and group gauges are read from the live state at scrape time. */
export class PrometheusBrokerMetrics implements BrokerMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'tidemark_broker_requests_total',
    help: 'Requests handled, by Kafka API and first non-zero error code',
    labelNames: ['api', 'error'] as const,
    registers: [this.registry],
  });
  private readonly requestSeconds = new Summary({
    name: 'tidemark_broker_request_duration_seconds',
    help: 'Request handling time (including long-poll waits), by Kafka API',
    labelNames: ['api'] as const,
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 60,
    ageBuckets: 5,
    registers: [this.registry],
  });
  private readonly bytesInTotal = new Counter({
    name: 'tidemark_broker_bytes_in_total',
    help: 'Request bytes received',
    registers: [this.registry],
  });
  private readonly bytesOutTotal = new Counter({
    name: 'tidemark_broker_bytes_out_total',
    help: 'Response bytes sent',
    registers: [this.registry],
  });
  private readonly fsync = new Summary({
    name: 'tidemark_broker_fsync_duration_seconds',
    help: 'Duration of each group-commit fsync round',
    percentiles: [0.5, 0.9, 0.99, 0.999],
    maxAgeSeconds: 60,
    ageBuckets: 5,
    registers: [this.registry],
  });
  private readonly connections = new Gauge({
    name: 'tidemark_broker_connections',
    help: 'Open client connections',
    registers: [this.registry],
  });

  constructor(sources: { log: () => LogStore | undefined; groups: () => GroupCoordinator | undefined }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tidemark_broker_process_' });
    const partitionGauge = (
      name: string,
      help: string,
      pick: (s: ReturnType<LogStore['stats']>[number]) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'] as const,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const stats of sources.log()?.stats() ?? []) {
            this.set({ topic: stats.topic, partition: String(stats.partition) }, pick(stats));
          }
        },
      });
    partitionGauge('tidemark_broker_partition_size_bytes', 'Bytes on disk per partition', (s) => s.sizeBytes);
    partitionGauge(
      'tidemark_broker_partition_high_watermark',
      'Next offset to be written',
      (s) => s.highWatermark,
    );
    partitionGauge(
      'tidemark_broker_partition_log_start_offset',
      'First retained offset',
      (s) => s.logStartOffset,
    );
    partitionGauge(
      'tidemark_broker_partition_segments',
      'Segment files per partition',
      (s) => s.segmentCount,
    );
    new Gauge({
      name: 'tidemark_broker_groups',
      help: 'Consumer groups by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const counts = new Map<GroupState, number>(GROUP_STATES.map((state) => [state, 0]));
        for (const group of sources.groups()?.listGroups() ?? []) {
          counts.set(group.state, (counts.get(group.state) ?? 0) + 1);
        }
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
  }

  requestHandled(apiKey: number, errorCode: number, seconds: number): void {
    const api = apiName(apiKey);
    this.requests.inc({ api, error: errorCode === 0 ? 'NONE' : errorName(errorCode) });
    this.requestSeconds.observe({ api }, seconds);
  }
  bytesIn(count: number): void {
    this.bytesInTotal.inc(count);
  }
  bytesOut(count: number): void {
    this.bytesOutTotal.inc(count);
  }
  fsyncSeconds(seconds: number): void {
    this.fsync.observe(seconds);
  }
  connectionOpened(): void {
    this.connections.inc();
  }
  connectionClosed(): void {
    this.connections.dec();
  }
}

// The endpoint itself is shared by every long-running process.
export { serveMetrics } from '@tidemark/observability';
