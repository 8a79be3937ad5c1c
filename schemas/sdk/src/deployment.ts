/**
 * A deployment: the contexts one Tidemark installation hosts, each with its projections and queries, and the
 * projection versions it can run beyond those (the catalog: a fixed version N+1 to replay beside N). It is one
 * module (`tidemark.config.js`, `--config` / TIDEMARK_CONFIG) that every service command loads; the platform
 * finds contexts only through it.
 *
 *   module.exports = defineDeployment({
 *     contexts: [{ context: ordersContext, projections: orderProjections, queries: orderQueries }],
 *   });
 */
import type { ContextDefinition } from './context';
import type { ProjectionDefinition } from './projection';
import type { QuerySet } from './queries';
import { routeShape } from './queries';

/** A context as a deployment hosts it. */
export interface HostedContext {
  readonly context: ContextDefinition;
  /** Its projections at the versions a fresh deployment starts with. */
  readonly projections: readonly ProjectionDefinition[];
  /** Its read routes (none: its views are only read by operators and other tools). */
  readonly queries?: QuerySet;
  /** What `tidemark up` prints as a copy-paste example for this context. */
  readonly example?: ContextExample;
}

/** A command a newcomer can send as it is, and reads (query paths, parameters filled in) that show its effect. */
export interface ContextExample {
  readonly command: {
    readonly type: string;
    readonly aggregateId: string;
    readonly expectedVersion?: number | 'new' | 'any';
    readonly payload: unknown;
  };
  readonly reads: readonly string[];
}

export interface DeploymentSpec {
  contexts: readonly HostedContext[];
  /** Projection versions besides the contexts' own; one with the same (context, name, version) replaces it. */
  catalog?: readonly ProjectionDefinition[];
}

export interface Deployment {
  readonly kind: 'tidemark.deployment';
  readonly contexts: readonly HostedContext[];
  readonly catalog: readonly ProjectionDefinition[];
}

/** Checks a deployment (names unique, views and queries of hosted contexts, paths that do not collide). */
export function defineDeployment(spec: DeploymentSpec): Deployment {
  const contexts = new Map<string, HostedContext>();
  const projectionContext = new Map<string, string>();
  const routes = new Map<string, string>();
  if (spec.contexts.length === 0) throw new Error('a deployment hosts at least one context');
  for (const hosted of spec.contexts) {
    const name = hosted.context.name;
    if (contexts.has(name)) throw new Error(`context ${name} is hosted twice`);
    contexts.set(name, hosted);
  }
  const register = (projection: ProjectionDefinition) => {
    if (!contexts.has(projection.context)) {
      throw new Error(
        `projection ${projection.name} belongs to context ${projection.context}, which is not hosted`,
      );
    }
    const owner = projectionContext.get(projection.name);
    if (owner !== undefined && owner !== projection.context) {
      // Operators name projections alone (`tidemark replay <projection>`): names are unique in a deployment.
      throw new Error(
        `projection name ${projection.name} is used by contexts ${owner} and ${projection.context}`,
      );
    }
    projectionContext.set(projection.name, projection.context);
  };
  for (const hosted of spec.contexts) {
    const seen = new Set<string>();
    for (const projection of hosted.projections) {
      if (projection.context !== hosted.context.name) {
        throw new Error(
          `context ${hosted.context.name} lists projection ${projection.name} of ${projection.context}`,
        );
      }
      if (seen.has(projection.name)) {
        throw new Error(`context ${hosted.context.name} lists projection ${projection.name} twice`);
      }
      seen.add(projection.name);
      register(projection);
    }
  }
  for (const projection of spec.catalog ?? []) register(projection);
  for (const hosted of spec.contexts) {
    const queries = hosted.queries;
    if (!queries) continue;
    if (queries.context !== hosted.context.name) {
      throw new Error(`context ${hosted.context.name} is given the queries of ${queries.context}`);
    }
    for (const query of queries.list) {
      const views = [
        query.view,
        ...(query.kind === 'document' && query.fallback ? [query.fallback.view] : []),
      ];
      for (const view of views) {
        if (projectionContext.get(view.name) !== hosted.context.name) {
          throw new Error(
            `query ${query.name} of ${hosted.context.name} reads ${view.name}, which it does not host`,
          );
        }
      }
      const shape = routeShape(query.path);
      const taken = routes.get(shape);
      if (taken !== undefined)
        throw new Error(`query path ${query.path} of ${hosted.context.name} collides with ${taken}`);
      routes.set(shape, `${hosted.context.name}.${query.name}`);
    }
  }
  return { kind: 'tidemark.deployment', contexts: [...spec.contexts], catalog: [...(spec.catalog ?? [])] };
}

/** Whether a module's export is a deployment made by defineDeployment. */
export function isDeployment(value: unknown): value is Deployment {
  return (value as Partial<Deployment> | null)?.kind === 'tidemark.deployment';
}
