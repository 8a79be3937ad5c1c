/**
 * The views of one context that its queries read: a sink per (projection, version) for document queries, a
 * search view per version for search queries, each created on first use and closed together.
 */
import type { Sink } from '@tidemark/projection-runtime';
import type { NamedQuery, ProjectionDefinition } from '@tidemark/sdk';
import type { ResolvedContext } from './options';
import type { SearchView } from './search/search-view';

interface Closeable {
  close(): Promise<void>;
}

/** The projections a context's queries read (fallback views included), by name. */
export function viewsOf(queries: readonly NamedQuery[]): Map<string, ProjectionDefinition> {
  const views = new Map<string, ProjectionDefinition>();
  for (const query of queries) {
    views.set(query.view.name, query.view);
    if (query.kind === 'document' && query.fallback) views.set(query.fallback.view.name, query.fallback.view);
  }
  return views;
}

export class ContextViews {
  private readonly sinks = new Map<string, Sink>();
  private readonly searches = new Map<string, SearchView>();
  /** The projections read, by name. */
  readonly projections: ReadonlyMap<string, ProjectionDefinition>;
  private closed = false;

  constructor(private readonly context: ResolvedContext) {
    this.projections = viewsOf(context.queries);
  }

  /** Whether the projection is read through a search view (and one is configured). */
  isSearch(projection: string): boolean {
    return this.projections.get(projection)?.store === 'elasticsearch' && this.context.search !== undefined;
  }

  /** The projections whose watermarks are followed: every view read, search views only when configured. */
  tracked(): string[] {
    return [...this.projections.values()]
      .filter((p) => p.store !== 'elasticsearch' || this.context.search !== undefined)
      .map((p) => p.name);
  }

  /** A projection version as this deployment's code defines it. */
  definition(projection: string, version: number): ProjectionDefinition {
    const defined = this.context.definition?.(projection, version);
    if (defined) return defined;
    const base = this.projections.get(projection);
    if (!base) throw new Error(`no query of ${this.context.name} reads projection '${projection}'`);
    return { ...base, version };
  }

  sink(projection: string, version: number): Sink {
    if (this.closed) throw new Error('the views are closed');
    const id = `${projection}.v${version}`;
    let sink = this.sinks.get(id);
    if (!sink) {
      sink = this.context.sink(projection, version);
      this.sinks.set(id, sink);
    }
    return sink;
  }

  /** The search view of a version, created on first use. */
  search(projection: string, version: number): SearchView {
    if (this.closed) throw new Error('the views are closed');
    const factory = this.context.search;
    if (!factory) throw new Error('no search view is configured');
    const id = `${projection}.v${version}`;
    let view = this.searches.get(id);
    if (!view) {
      view = factory(projection, version);
      this.searches.set(id, view);
    }
    return view;
  }

  /** The checkpoints of a projection version (the watermark tracker's authority). */
  checkpoints(projection: string, version: number): Promise<Map<number, number>> {
    if (!this.projections.has(projection)) {
      return Promise.reject(new Error(`no query of ${this.context.name} reads projection '${projection}'`));
    }
    return this.isSearch(projection)
      ? this.search(projection, version).checkpoints()
      : this.sink(projection, version).checkpoints();
  }

  async close(): Promise<void> {
    this.closed = true;
    const all: Closeable[] = [...this.sinks.values(), ...this.searches.values()];
    this.sinks.clear();
    this.searches.clear();
    await Promise.allSettled(all.map((view) => view.close()));
  }
}
