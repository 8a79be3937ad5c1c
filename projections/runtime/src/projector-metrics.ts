/**
 * The Prometheus metrics of projectors, per (context, projection, version, partition). Several versions run side
 * by side in one process and share one registry: the first projector creates a metric, the others reuse it.
 */
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';

export type ProjectorMetricLabels = 'context' | 'projection' | 'version' | 'partition';

/** A projection version's identity, as the metrics label it. */
export interface MetricProjection {
  context: string;
  name: string;
  version: number;
}

/** The labels of one partition of a projection version. */
export function partitionLabels(
  projection: MetricProjection,
  partition: number,
): Record<ProjectorMetricLabels, string> {
  return {
    context: projection.context,
    projection: projection.name,
    version: String(projection.version),
    partition: String(partition),
  };
}

export interface ProjectorMetrics {
  lag: Gauge<ProjectorMetricLabels>;
  watermark: Gauge<ProjectorMetricLabels>;
  applied: Counter<ProjectorMetricLabels>;
  batches: Counter<ProjectorMetricLabels>;
  batchSeconds: Histogram<ProjectorMetricLabels>;
  commitFailures: Counter<ProjectorMetricLabels>;
  deadLetters: Counter<ProjectorMetricLabels>;
  halted: Gauge<ProjectorMetricLabels>;
}

/** Metrics are shared by the projectors of one registry (several versions run side by side). */
function sharedMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function createProjectorMetrics(registry: Registry): ProjectorMetrics {
  const labelNames = ['context', 'projection', 'version', 'partition'] as const;
  return {
    lag: sharedMetric(
      registry,
      'tidemark_projection_lag_events',
      () =>
        new Gauge({
          name: 'tidemark_projection_lag_events',
          help: 'Log end offset minus the watermark, per partition (grows while a partition is halted)',
          labelNames,
          registers: [registry],
        }),
    ),
    watermark: sharedMetric(
      registry,
      'tidemark_projection_watermark',
      () =>
        new Gauge({
          name: 'tidemark_projection_watermark',
          help: 'Next offset not applied, per partition',
          labelNames,
          registers: [registry],
        }),
    ),
    applied: sharedMetric(
      registry,
      'tidemark_projection_events_applied_total',
      () =>
        new Counter({
          name: 'tidemark_projection_events_applied_total',
          help: 'Events applied to the view',
          labelNames,
          registers: [registry],
        }),
    ),
    batches: sharedMetric(
      registry,
      'tidemark_projection_batches_total',
      () =>
        new Counter({
          name: 'tidemark_projection_batches_total',
          help: 'Sink commits (one per chunk of a fetched batch)',
          labelNames,
          registers: [registry],
        }),
    ),
    batchSeconds: sharedMetric(
      registry,
      'tidemark_projection_batch_duration_seconds',
      () =>
        new Histogram({
          name: 'tidemark_projection_batch_duration_seconds',
          help: 'Decode, load, fold, commit and publish of one chunk',
          labelNames,
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
    commitFailures: sharedMetric(
      registry,
      'tidemark_projection_commit_failures_total',
      () =>
        new Counter({
          name: 'tidemark_projection_commit_failures_total',
          help: 'Pipelined store commits that failed (the partition resumes from the sink checkpoint)',
          labelNames,
          registers: [registry],
        }),
    ),
    deadLetters: sharedMetric(
      registry,
      'tidemark_projection_dead_letters_total',
      () =>
        new Counter({
          name: 'tidemark_projection_dead_letters_total',
          help: 'Events (or parts of events, per key) dead-lettered',
          labelNames,
          registers: [registry],
        }),
    ),
    halted: sharedMetric(
      registry,
      'tidemark_projection_partition_halted',
      () =>
        new Gauge({
          name: 'tidemark_projection_partition_halted',
          help: '1 while a partition is halted by a poison event (stop policy)',
          labelNames,
          registers: [registry],
        }),
    ),
  };
}
