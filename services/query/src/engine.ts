/**
 * The query API's engine: for each context it serves, the watermark tracker, the views, the shadow reads and the
 * consistent reads over them; a read of a route is dispatched to its context by the route's query definition.
 */
import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { NamedQuery, ProjectionDocument } from '@tidemark/sdk';
import type { Logger } from 'pino';
import type { ReadAnswer, ReadRequest } from './consistent-reads';
import { ContextReads } from './consistent-reads';
import { refuseUnknownParameters } from './http/read-request';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { QueryMetrics } from './metrics';
import type { ResolvedContext, ResolvedQueryOptions } from './options';
import { readDocument } from './queries/document-read';
import { readSearch } from './queries/search-read';
import { parseSearchParams } from './search/search-params';
import { ShadowReads } from './shadow';
import { QUERY_LOGGER, QUERY_OPTIONS_RESOLVED } from './tokens';
import { ContextViews } from './views';
import { WatermarkTracker } from './watermark-tracker';

@Injectable()
export class QueryEngine implements OnModuleInit, OnApplicationShutdown {
  private readonly reads = new Map<string, ContextReads>();

  constructor(
    @Inject(QUERY_OPTIONS_RESOLVED) private readonly options: ResolvedQueryOptions,
    private readonly metrics: QueryMetrics,
    @Inject(QUERY_LOGGER) private readonly logger: Logger,
  ) {
    for (const context of options.contexts) this.reads.set(context.name, this.contextReads(context));
  }

  private contextReads(context: ResolvedContext): ContextReads {
    const logger = this.logger.child({ context: context.name });
    const views = new ContextViews(context);
    const metrics = this.metrics;
    const tracker = new WatermarkTracker({
      context: context.name,
      projections: views.tracked(),
      bus: this.options.bus,
      control: this.options.control,
      checkpoints: (projection, version) => views.checkpoints(projection, version),
      switchTimeoutMs: this.options.switchTimeoutMs,
      onSwitch: (change) => {
        const labels = { context: context.name, projection: change.projection };
        if (change.to === null) metrics.activeVersion.remove(labels);
        else metrics.activeVersion.set(labels, change.to);
        if (change.from !== null && change.to !== null) {
          metrics.versionSwitches.inc({ ...labels, covered: String(change.covered) });
        }
      },
      logger,
    });
    const shadow = new ShadowReads({
      context: context.name,
      tracker,
      control: this.options.control,
      metrics,
      logger,
      options: this.options.shadow,
    });
    return new ContextReads(context, this.options, tracker, views, metrics, shadow, logger);
  }

  /** The consistent reads of a context (tests and diagnostics). */
  context(name: string): ContextReads {
    const reads = this.reads.get(name);
    if (!reads) throw new Error(`the query API does not serve context '${name}'`);
    return reads;
  }

  /** Every route, in the contexts' order. */
  routes(): NamedQuery[] {
    return this.options.contexts.flatMap((context) => [...context.queries]);
  }

  /** Answers a read of one route: `param` is the path parameter's value of a document query. */
  read(
    query: NamedQuery,
    param: string | undefined,
    parameters: Record<string, unknown> | undefined,
    request: ReadRequest,
  ): Promise<ReadAnswer<unknown>> {
    const reads = this.context(query.context);
    if (query.kind === 'search')
      return readSearch(reads, query, parseSearchParams(query, parameters ?? {}), request);
    refuseUnknownParameters(parameters);
    return readDocument(reads, query, param ?? '', request, this.metrics, this.logger) as Promise<
      ReadAnswer<ProjectionDocument>
    >;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([...this.reads.values()].map((reads) => reads.tracker.start()));
  }

  /** Stops the trackers (waiting reads fail, retryable), lets shadow reads finish, then closes the views. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [...this.reads.values()].map(async (reads) => {
        await reads.tracker.stop();
        await reads.shadowReads.close();
        await reads.views.close();
      }),
    );
  }
}
