/**
 * What every operator action of one context shares: the control table, catalog lookups that answer with the
 * operators' error codes, one cached sink per version, the events topic's log ends, and the events registry.
 * One per ProjectionOps; the operations (projection-status, replay, diff, cutover, retire, audit) receive it.
 */
import { contextTopics, PartitionReader } from '@tidemark/kafka';
import type {
  ProjectionControl,
  ProjectionDefinition,
  ProjectionVersionRow,
  Sink,
  WatermarkBus,
} from '@tidemark/projection-runtime';
import type { EventRegistry } from '@tidemark/schemas';
import type { Logger } from 'pino';
import type { ProjectionCatalog } from '../catalog';
import type { HostedDeployment } from '../deployment';
import type { StoreEndpoints } from '../sinks';
import { openSink, openWatermarkBus } from '../sinks';
import { control as controlCall, notFound, unavailable } from './errors';

export interface ProjectionOpsOptions {
  brokers: string[];
  stores: StoreEndpoints;
  /** P of the context's topics. */
  partitions: number;
  catalog: ProjectionCatalog;
  /** The caller's: not closed by close(). */
  control: ProjectionControl;
  logger: Logger;
  /** The deployment whose context is acted on. */
  deployment: HostedDeployment;
  /** The context acted on. */
  context: string;
  /** Replay: how often checkpoints and log ends are compared (default 500 ms). */
  pollIntervalMs?: number;
  /**
   * How long a cutover or rollback waits for the version to cover the active one's watermark as read when it
   * started (under live traffic both follow the log, so the follower is usually a few events behind at any
   * instant) before it refuses with CUTOVER_LAGGING (default 10000).
   */
  coverageWaitMs?: number;
  /** Replay: consumer group settings of the replaying projector. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Diff: how often a moving key is reloaded before it is reported as moving (default 5, 200 ms apart). */
  diffRetries?: number;
  diffRetryDelayMs?: number;
}

/** Who acts, and why: recorded in the audit log. */
export interface Actor {
  actor: string;
  reason?: string;
}

export class OpsContext {
  readonly context: string;
  /** The context's events topic. */
  readonly topic: string;
  /** P of the context's topics. */
  readonly partitions: number;
  readonly events: EventRegistry;
  readonly reader: PartitionReader;
  private readonly sinks = new Map<string, Sink>();
  private bus: WatermarkBus | null = null;
  private closed = false;

  constructor(readonly options: ProjectionOpsOptions) {
    this.context = options.context;
    this.topic = contextTopics(this.context).events;
    this.partitions = options.partitions;
    this.events = options.deployment.context(this.context).events;
    this.reader = PartitionReader.create(options.brokers, 'tidemark-ops-reader');
  }

  get control(): ProjectionControl {
    return this.options.control;
  }

  get catalog(): ProjectionCatalog {
    return this.options.catalog;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  // ---- control table and catalog ---------------------------------------------------------------------------

  /** The control table's rows of a projection of this context. */
  async rowsOf(projection: string): Promise<ProjectionVersionRow[]> {
    return (await controlCall(() => this.control.list())).filter(
      (row) => row.context === this.context && row.projection === projection,
    );
  }

  /** Refuses (UNKNOWN_PROJECTION) a projection neither the control table nor the catalog knows. */
  knownProjection(projection: string, rows: readonly ProjectionVersionRow[]): void {
    if (rows.length > 0 || this.catalog.versions(this.context, projection).length > 0) return;
    throw notFound(
      'UNKNOWN_PROJECTION',
      `unknown projection '${projection}' in context '${this.context}' (known: ${this.catalog.names(this.context).join(', ')})`,
      { context: this.context, projection },
    );
  }

  /** The definition of a version: the catalog's, or (for reading its targets) another version's with its store. */
  definitionOf(
    projection: string,
    version: number,
    rows: readonly ProjectionVersionRow[],
  ): ProjectionDefinition {
    const found = this.catalog.find(this.context, projection, version);
    if (found) return found;
    const row = rows.find((r) => r.version === version);
    const any = this.catalog.versions(this.context, projection).at(-1);
    if (row && any) return { ...any, version, store: row.store };
    this.knownProjection(projection, rows);
    throw notFound(
      'UNKNOWN_VERSION',
      `projection '${projection}' has no version ${version} (versions: ${this.versionsOf(projection, rows).join(', ') || 'none'})`,
      { context: this.context, projection, version },
    );
  }

  /** A version the code can run (replay needs its apply function). */
  catalogDefinition(projection: string, version: number): ProjectionDefinition {
    const found = this.catalog.find(this.context, projection, version);
    if (found) return found;
    const versions = this.catalog.versions(this.context, projection);
    if (versions.length === 0) {
      throw notFound(
        'UNKNOWN_PROJECTION',
        `unknown projection '${projection}' in context '${this.context}' (known: ${this.catalog.names(this.context).join(', ')})`,
        { context: this.context, projection },
      );
    }
    throw notFound(
      'UNKNOWN_VERSION',
      `projection '${projection}' has no version ${version} in this deployment's catalog (versions: ${versions.map((d) => d.version).join(', ')}); ship it in a catalog module (--catalog)`,
      { context: this.context, projection, version },
    );
  }

  /** Every version the catalog or the control table knows, ascending. */
  versionsOf(projection: string, rows: readonly ProjectionVersionRow[]): number[] {
    const versions = new Set([
      ...this.catalog.versions(this.context, projection).map((d) => d.version),
      ...rows.map((r) => r.version),
    ]);
    return [...versions].sort((x, y) => x - y);
  }

  // ---- stores and the log ----------------------------------------------------------------------------------

  /** One cached sink per version (closed with the ops). */
  sinkOf(definition: ProjectionDefinition): Sink {
    const id = `${definition.name}.v${definition.version}`;
    let sink = this.sinks.get(id);
    if (!sink) {
      try {
        sink = this.newSink(definition);
      } catch (error) {
        throw unavailable('STORE_UNAVAILABLE', (error as Error).message, {
          projection: definition.name,
          version: definition.version,
          store: definition.store,
        });
      }
      this.sinks.set(id, sink);
    }
    return sink;
  }

  /** A sink of the caller's own (not cached: the caller closes it). */
  newSink(definition: ProjectionDefinition): Sink {
    return openSink(definition, this.options.stores, this.partitions, this.logger);
  }

  /** Checkpoints as a dense vector over the context's partitions (missing: 0). */
  async checkpointsOf(sink: Sink): Promise<number[]> {
    const checkpoints = await sink.checkpoints();
    return Array.from({ length: this.partitions }, (_, p) => checkpoints.get(p) ?? 0);
  }

  /** The events topic's log end of every partition (read_committed). */
  async logEnds(): Promise<number[]> {
    return Promise.all(
      Array.from({ length: this.partitions }, (_, p) => this.reader.endOffset(this.topic, p)),
    );
  }

  /** The watermark bus a replaying projector publishes on (opened on first use, closed with the ops). */
  watermarkBus(): WatermarkBus {
    this.bus ??= openWatermarkBus(this.options.stores, this.logger);
    return this.bus;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sink of this.sinks.values()) await sink.close().catch(() => undefined);
    this.sinks.clear();
    await this.bus?.close().catch(() => undefined);
    this.reader.close();
  }
}
