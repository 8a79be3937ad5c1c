/**
 * The read path of one deployment: a projector per projection version (each its own consumer group), the
 * watermark bus and control table in Postgres, and the query API. `tidemark up` runs it in-process; `tidemark
 * projector` runs only the projectors (a separate process that operators, and the fault tests, can kill).
 */
import path from 'node:path';
import { awaitTopicIdentity, contextTopics, PartitionReader } from '@tidemark/kafka';
import type {
  ProjectionControl,
  ProjectionDefinition,
  ProjectionVersionRow,
  SideEffectOutbox,
  Sink,
  WatermarkBus,
} from '@tidemark/projection-runtime';
import {
  createPostgresProjectionControl,
  createPostgresSideEffectOutbox,
  createPostgresWatermarkBus,
  Projector,
} from '@tidemark/projection-runtime';
import type { QueryContext } from '@tidemark/query';
import { createElasticsearchSearchView, startQueryApi } from '@tidemark/query';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { ProjectionCatalog } from './catalog';
import type { HostedDeployment } from './deployment';
import { projectorChildCommand, startServiceChild } from './service-child';
import type { StoreEndpoints } from './sinks';
import { openSink } from './sinks';

/** A projection the projector set runs (every live version of it that the catalog defines). */
export interface ProjectionSelection {
  context: string;
  name: string;
}

export interface ProjectorSetOptions {
  brokers: string[];
  stores: StoreEndpoints;
  partitions: number;
  /** The contexts (their event registries) and projections this installation hosts. */
  deployment: HostedDeployment;
  /** The versions this deployment's code can run (default: the deployment module's). */
  catalog?: ProjectionCatalog;
  /**
   * The projections to run, by context and name (a ProjectionDefinition fits): every `live` version of each that
   * the catalog defines. When a projection has no version registered yet, its lowest catalog version is
   * registered (and so becomes live and active).
   */
  projections: readonly ProjectionSelection[];
  logger: Logger;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  registry?: Registry;
  /** How often retired versions are checked for targets to drop, and the set reconciled (default 30 s). */
  reconcileIntervalMs?: number;
  /** Record side effects of the active versions in the Postgres outbox (default true). */
  sideEffects?: boolean;
}

interface RunningVersion {
  key: string;
  definition: ProjectionDefinition;
  projector: Projector;
  sink: Sink;
}

const versionKey = (v: { context: string; name?: string; projection?: string; version: number }) =>
  `${v.context}/${v.name ?? v.projection}/${v.version}`;

/**
 * The projectors of a deployment: one per live version of each selected projection, sharing one bus, control
 * table connection and side-effect outbox. It follows the control table: on every change (NOTIFY) and every
 * `reconcileIntervalMs` it starts versions that became live, stops those that were retired or failed, and drops
 * the targets of retired versions whose grace period (retireAfter) has passed.
 */
export class ProjectorSet {
  private readonly running = new Map<string, RunningVersion>();
  private reconciling: Promise<void> = Promise.resolve();
  private queued = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** Live versions the catalog lacks, already warned about. */
  private readonly unknownWarned = new Set<string>();

  private constructor(
    private readonly options: ProjectorSetOptions,
    readonly catalog: ProjectionCatalog,
    readonly registry: Registry,
    readonly control: ProjectionControl,
    private readonly bus: WatermarkBus,
    private readonly outbox: SideEffectOutbox | undefined,
    private readonly closers: (() => Promise<void>)[],
    private readonly logger: Logger,
  ) {}

  static async start(options: ProjectorSetOptions): Promise<ProjectorSet> {
    const registry = options.registry ?? new Registry();
    const catalog = options.catalog ?? ProjectionCatalog.of(options.deployment);
    const logger = options.logger.child({ component: 'projector-set' });
    const bus: WatermarkBus = createPostgresWatermarkBus({
      connectionString: options.stores.postgres,
      logger: options.logger,
    });
    const control = createPostgresProjectionControl({
      connectionString: options.stores.postgres,
      logger: options.logger,
    });
    const closers: (() => Promise<void>)[] = [() => bus.close(), () => control.close()];
    let outbox: SideEffectOutbox | undefined;
    if (options.sideEffects !== false) {
      const created = createPostgresSideEffectOutbox({
        connectionString: options.stores.postgres,
        logger: options.logger,
      });
      outbox = created;
      closers.push(() => created.close());
    }
    const set = new ProjectorSet(options, catalog, registry, control, bus, outbox, closers, logger);
    try {
      for (const selection of options.projections) {
        const first = catalog.versions(selection.context, selection.name)[0];
        if (!first) {
          throw new Error(
            `projection '${selection.name}' of context '${selection.context}' is not in the catalog`,
          );
        }
      }
      await set.registerFirstVersions();
      set.unsubscribe = await control.subscribe(() => set.reconcileSoon());
      // The first reconcile fails the start (a projector that cannot start is a deployment error); later ones
      // log and retry.
      set.reconciling = set.reconcile(true);
      await set.reconciling;
      set.timer = setInterval(() => set.reconcileSoon(), options.reconcileIntervalMs ?? 30_000);
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  /** The projectors running now (one per live version). */
  get projectors(): Projector[] {
    return [...this.running.values()].map((r) => r.projector);
  }

  /** The versions running now. */
  versions(): { context: string; name: string; version: number }[] {
    return [...this.running.values()].map(({ definition: d }) => ({
      context: d.context,
      name: d.name,
      version: d.version,
    }));
  }

  /** A fresh deployment: the lowest catalog version of each projection becomes live and active. */
  private async registerFirstVersions(): Promise<void> {
    const rows = await this.control.list();
    for (const selection of this.options.projections) {
      if (rows.some((r) => r.context === selection.context && r.projection === selection.name)) continue;
      const first = this.catalog.versions(selection.context, selection.name)[0];
      if (!first) continue;
      await this.control.register({
        context: first.context,
        name: first.name,
        version: first.version,
        store: first.store,
      });
    }
  }

  /** Schedules a reconcile after the one in flight (a burst of changes costs at most one more). */
  private reconcileSoon(): void {
    if (this.stopped || this.queued) return;
    this.queued = true;
    this.reconciling = this.reconciling
      .catch(() => undefined)
      .then(async () => {
        this.queued = false;
        await this.reconcile(false).catch((error: unknown) =>
          this.logger.error({ err: error }, 'reconcile failed; retrying on the next change or interval'),
        );
      });
  }

  /** Waits for the reconciles scheduled so far (tests). */
  async settled(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.reconciling;
      await current.catch(() => undefined);
    } while (current !== this.reconciling);
  }

  private selected(context: string, name: string): boolean {
    return this.options.projections.some((p) => p.context === context && p.name === name);
  }

  private async reconcile(throwOnError: boolean): Promise<void> {
    if (this.stopped) return;
    const rows = await this.control.list();
    const wanted = new Map<string, ProjectionDefinition>();
    for (const row of rows) {
      if (row.state !== 'live' || !this.selected(row.context, row.projection)) continue;
      const definition = this.catalog.find(row.context, row.projection, row.version);
      if (!definition) {
        const key = versionKey(row);
        if (!this.unknownWarned.has(key)) {
          this.unknownWarned.add(key);
          this.logger.warn(
            { context: row.context, projection: row.projection, version: row.version },
            "a live version is not in this deployment's catalog; not running it (start with --catalog)",
          );
        }
        continue;
      }
      wanted.set(versionKey(row), definition);
    }
    for (const [key, running] of [...this.running]) {
      if (wanted.has(key)) continue;
      this.running.delete(key);
      await this.stopVersion(running);
      this.logger.info({ version: key }, 'projector stopped: the version is no longer live');
    }
    for (const [key, definition] of wanted) {
      if (this.running.has(key) || this.stopped) continue;
      try {
        this.running.set(key, await this.startVersion(key, definition));
        this.logger.info({ version: key }, 'projector started');
      } catch (error) {
        if (throwOnError) throw error;
        this.logger.error({ err: error, version: key }, 'projector did not start; retrying later');
      }
    }
    await this.dropExpired(rows);
  }

  private async startVersion(key: string, definition: ProjectionDefinition): Promise<RunningVersion> {
    const sink = openSink(definition, this.options.stores, this.options.partitions);
    try {
      const projector = await Projector.start({
        brokers: this.options.brokers,
        definition,
        sink,
        events: this.options.deployment.context(definition.context).events,
        bus: this.bus,
        control: this.control,
        outbox: this.outbox,
        logger: this.options.logger.child({ projection: definition.name, version: definition.version }),
        metrics: this.registry,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      });
      return { key, definition, projector, sink };
    } catch (error) {
      await sink.close().catch(() => undefined);
      throw error;
    }
  }

  private async stopVersion(running: RunningVersion): Promise<void> {
    await running.projector
      .stop()
      .catch((error: unknown) =>
        this.logger.warn({ err: error, version: running.key }, 'projector stop failed'),
      );
    await running.sink.close().catch(() => undefined);
  }

  /** Drops the targets of retired versions whose grace period has passed (after their projectors stopped). */
  private async dropExpired(rows: readonly ProjectionVersionRow[]): Promise<void> {
    const now = Date.now();
    for (const row of rows) {
      if (this.stopped) return;
      if (row.state !== 'retired' || row.droppedAt || !row.retireAfter || row.retireAfter.getTime() > now)
        continue;
      if (!this.selected(row.context, row.projection) || this.running.has(versionKey(row))) continue;
      // A version the catalog no longer has is dropped with its projection's definition at that version: the
      // targets are named by projection name and version only.
      const base =
        this.catalog.find(row.context, row.projection, row.version) ??
        this.catalog.versions(row.context, row.projection)[0];
      if (!base) continue;
      const definition = { ...base, version: row.version, store: row.store };
      let sink: Sink;
      try {
        sink = openSink(definition, this.options.stores, this.options.partitions);
      } catch (error) {
        this.logger.warn(
          { err: error, version: versionKey(row) },
          'retired version not dropped: store not configured',
        );
        continue;
      }
      try {
        await sink.drop();
        await this.control.markDropped(row.context, row.projection, row.version);
        this.logger.info(
          { context: row.context, projection: row.projection, version: row.version, store: row.store },
          'retired version dropped: its targets are gone',
        );
      } catch (error) {
        this.logger.error(
          { err: error, version: versionKey(row) },
          'dropping a retired version failed; retrying later',
        );
      } finally {
        await sink.close().catch(() => undefined);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.unsubscribe?.().catch(() => undefined);
    await this.reconciling.catch(() => undefined);
    const running = [...this.running.values()];
    this.running.clear();
    await Promise.allSettled(running.map((r) => this.stopVersion(r)));
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
  }
}

export interface QueryServiceOptions {
  brokers: string[];
  stores: StoreEndpoints;
  partitions: number;
  /** The contexts, their queries and their projections. */
  deployment: HostedDeployment;
  /** Only these contexts' queries (default: every context's). */
  contexts?: readonly string[];
  apiKeys: { id: string; secret: string; scopes: string[] }[];
  host: string;
  port: number;
  waitTimeoutMs?: number;
  /** The projection versions of this deployment (default: the deployment module's): the sinks of their versions. */
  catalog?: ProjectionCatalog;
  logger: Logger;
}

/**
 * The query API with what it needs: per context, the events topic's identity (tokens name it), the log end (a
 * token past it is bad input) and a sink per view version; and the control table (which version reads go to)
 * and the watermark bus.
 */
export interface QueryService {
  url: string;
  close(): Promise<void>;
}

export async function startQueryService(options: QueryServiceOptions): Promise<QueryService> {
  const { deployment } = options;
  const catalog = options.catalog ?? ProjectionCatalog.of(deployment);
  const reader = PartitionReader.create(options.brokers);
  const closers: (() => Promise<void>)[] = [async () => reader.close()];
  try {
    const bus = createPostgresWatermarkBus({
      connectionString: options.stores.postgres,
      logger: options.logger,
    });
    closers.push(() => bus.close());
    const control = createPostgresProjectionControl({
      connectionString: options.stores.postgres,
      logger: options.logger,
    });
    closers.push(() => control.close());
    // A view's version as this deployment's code defines it. Targets are named by projection name and version,
    // so a version the catalog lacks still opens (with the code of the version the deployment starts with).
    const definitionOf = (context: string, projection: string, version: number): ProjectionDefinition => {
      const found = catalog.find(context, projection, version);
      if (found) return found;
      const base = catalog.versions(context, projection)[0];
      if (!base) throw new Error(`projection ${projection} is not defined in context ${context}`);
      return { ...base, version };
    };
    const contexts: QueryContext[] = (options.contexts ?? deployment.names()).map((name) => {
      const events = contextTopics(name).events;
      return {
        name,
        partitions: options.partitions,
        topicIdentity: () => awaitTopicIdentity(reader, events),
        logEnd: (partition: number) => reader.endOffset(events, partition),
        queries: deployment.queries([name]),
        definition: (projection, version) => definitionOf(name, projection, version),
        sink: (projection, version) =>
          openSink(definitionOf(name, projection, version), options.stores, options.partitions),
        ...(options.stores.elasticsearch
          ? {
              search: (projection: string, version: number) =>
                createElasticsearchSearchView({
                  definition: definitionOf(name, projection, version),
                  node: options.stores.elasticsearch as string,
                  partitions: options.partitions,
                }),
            }
          : {}),
      };
    });
    const api = await startQueryApi({
      host: options.host,
      port: options.port,
      apiKeys: options.apiKeys,
      waitTimeoutMs: options.waitTimeoutMs,
      contexts,
      control,
      bus,
      logger: options.logger,
    });
    return {
      url: api.url,
      async close() {
        await api.close();
        for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    throw error;
  }
}

export interface ProjectorChildOptions {
  brokers: string[];
  stores: StoreEndpoints;
  partitions: number;
  /** The deployment module the child loads (an absolute path). */
  config: string;
  projections: string[];
  /** A catalog module (`--catalog`): projection versions beyond the built-in ones. */
  catalogModule?: string;
  /** Prometheus port of the child: -1 disables, 0 picks one. */
  metricsPort: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  logger: Logger;
  startTimeoutMs?: number;
}

/** The `tidemark projector` arguments (after the command name) for these stores and projections. */
export function projectorArgs(
  options: Pick<
    ProjectorChildOptions,
    | 'brokers'
    | 'stores'
    | 'partitions'
    | 'config'
    | 'projections'
    | 'catalogModule'
    | 'metricsPort'
    | 'sessionTimeoutMs'
    | 'heartbeatIntervalMs'
  >,
): string[] {
  const { stores } = options;
  return [
    '--brokers',
    options.brokers.join(','),
    '--postgres',
    stores.postgres,
    ...(stores.redis ? ['--redis', stores.redis] : []),
    ...(stores.memcached ? ['--memcached', stores.memcached] : []),
    ...(stores.elasticsearch ? ['--elasticsearch', stores.elasticsearch] : []),
    '--partitions',
    String(options.partitions),
    '--config',
    options.config,
    '--projections',
    options.projections.join(','),
    ...(options.catalogModule ? ['--catalog', path.resolve(options.catalogModule)] : []),
    `--metrics-port=${options.metricsPort}`,
    ...(options.sessionTimeoutMs ? ['--session-timeout-ms', String(options.sessionTimeoutMs)] : []),
    ...(options.heartbeatIntervalMs ? ['--heartbeat-interval-ms', String(options.heartbeatIntervalMs)] : []),
  ];
}

/** `tidemark projector` as a managed child process; resolves once it printed its ready line. */
export async function startProjectorChild(
  options: ProjectorChildOptions,
): Promise<{ metricsUrl: string | undefined; stop(): Promise<void> }> {
  const child = await startServiceChild({
    ...projectorChildCommand(projectorArgs(options)),
    logger: options.logger,
    startTimeoutMs: options.startTimeoutMs,
  });
  options.logger.info(
    { pid: child.pid, projections: options.projections, metricsUrl: child.metricsUrl },
    'projector process ready',
  );
  return child;
}

export type { StoreEndpoints } from './sinks';
export { openSink } from './sinks';
