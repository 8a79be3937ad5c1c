/**
 * The operator actions of a whole deployment: one ProjectionOps per context, made on first use. Projection
 * names are unique in a deployment (defineDeployment checks it), so an action on a projection finds its context
 * by name; listings and the audit log span every context.
 */
import type { ProjectionControl } from '@tidemark/projection-runtime';
import type { Logger } from 'pino';
import type { ProjectionCatalog } from '../catalog';
import type { HostedDeployment } from '../deployment';
import type { StoreEndpoints } from '../sinks';
import { auditLimit } from './audit';
import { notFound } from './errors';
import type {
  Actor,
  CutoverOptions,
  CutoverOutcome,
  DiffOptions,
  ProjectionOpsOptions,
  ProjectionStatus,
  ReplayOptions,
  ReplayOutcome,
  RetireOptions,
  RetireOutcome,
} from './projection-ops';
import { ProjectionOps, partitionsOfContext } from './projection-ops';

export interface DeploymentOpsOptions
  extends Omit<ProjectionOpsOptions, 'context' | 'partitions' | 'deployment' | 'catalog' | 'control'> {
  deployment: HostedDeployment;
  catalog: ProjectionCatalog;
  /** The caller's: not closed by close(). */
  control: ProjectionControl;
  stores: StoreEndpoints;
  /** P of every context; default: read from each context's events topic (8 when it does not exist yet). */
  partitions?: number;
  logger: Logger;
}

export class DeploymentOps {
  private readonly byContext = new Map<string, Promise<ProjectionOps>>();

  constructor(private readonly options: DeploymentOpsOptions) {}

  /** The actions of one context (made on first use). */
  ofContext(context: string): Promise<ProjectionOps> {
    this.options.deployment.context(context);
    let ops = this.byContext.get(context);
    if (!ops) {
      const { partitions, ...rest } = this.options;
      ops = (async () =>
        new ProjectionOps({
          ...rest,
          context,
          partitions:
            partitions ??
            (await partitionsOfContext(rest.brokers, context, rest.logger)) ??
            DEFAULT_PARTITIONS,
        }))();
      this.byContext.set(context, ops);
      // A failed lookup (broker away) is tried again by the next action.
      ops.catch(() => this.byContext.delete(context));
    }
    return ops;
  }

  /** The hosted contexts. */
  contexts(): string[] {
    return this.options.deployment.names();
  }

  /** The context a projection belongs to (404 UNKNOWN_PROJECTION when none has it). */
  contextOf(projection: string): string {
    const context = this.options.catalog.contextOf(projection);
    if (context === undefined) {
      throw notFound(
        'UNKNOWN_PROJECTION',
        `unknown projection '${projection}' (known: ${this.options.catalog.names().join(', ')})`,
        { projection },
      );
    }
    return context;
  }

  /** The actions of the context a projection belongs to. */
  private of(projection: string): Promise<ProjectionOps> {
    return this.ofContext(this.contextOf(projection));
  }

  /** Every projection of every context (or of `context`), with versions, states, watermarks and lag. */
  async list(options: { context?: string } = {}): Promise<ProjectionStatus[]> {
    const contexts = options.context ? [options.context] : this.options.deployment.names();
    const lists = await Promise.all(contexts.map(async (context) => (await this.ofContext(context)).list()));
    return lists.flat();
  }

  async replay(options: ReplayOptions): Promise<ReplayOutcome> {
    return (await this.of(options.projection)).replay(options);
  }

  async diff(options: DiffOptions) {
    return (await this.of(options.projection)).diff(options);
  }

  async cutover(options: CutoverOptions): Promise<CutoverOutcome> {
    return (await this.of(options.projection)).cutover(options);
  }

  async rollback(
    options: Actor & { projection: string; force?: boolean; waitMs?: number },
  ): Promise<CutoverOutcome> {
    return (await this.of(options.projection)).rollback(options);
  }

  async retire(options: RetireOptions): Promise<RetireOutcome> {
    return (await this.of(options.projection)).retire(options);
  }

  /** The audit log, newest first: of one projection, or of every context. */
  async audit(options: { limit?: number; projection?: string } = {}) {
    const limit = auditLimit(options.limit);
    if (options.projection !== undefined) return (await this.of(options.projection)).audit(options);
    const records = await Promise.all(
      this.options.deployment
        .names()
        .map(async (context) => (await this.ofContext(context)).audit({ limit })),
    );
    return records
      .flat()
      .sort((a, b) => b.at.getTime() - a.at.getTime() || b.id - a.id)
      .slice(0, limit);
  }

  async close(): Promise<void> {
    const all = [...this.byContext.values()];
    this.byContext.clear();
    for (const ops of all) await (await ops.catch(() => null))?.close();
  }
}

const DEFAULT_PARTITIONS = 8;
