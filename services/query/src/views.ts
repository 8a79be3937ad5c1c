import {
  LISTING_CARD_PROJECTION,
  LISTING_DETAIL_PROJECTION,
  LISTING_SEARCH_PROJECTION,
  SELLER_STATS_PROJECTION,
} from '@tidemark/listings-projections';
import type { ProjectionDocument, Sink } from '@tidemark/projection-runtime';
import type { QueryViews } from './options';
import type { ListingSearchView } from './search/listing-search';

/** The views read through a Sink (the search view has its own reader). */
export type ViewKind = Exclude<keyof QueryViews, 'search'>;
/** Every view a read can wait on. */
export type ReadView = ViewKind | 'search';

/** The projection (control table name) behind each view the API reads. */
export const VIEW_PROJECTIONS: Readonly<Record<ViewKind, string>> = {
  detail: LISTING_DETAIL_PROJECTION,
  sellerStats: SELLER_STATS_PROJECTION,
  cards: LISTING_CARD_PROJECTION,
};

/** The projection behind the search view. */
export const SEARCH_PROJECTION = LISTING_SEARCH_PROJECTION;

/** The projection of any view. */
export function projectionOf(view: ReadView): string {
  return view === 'search' ? SEARCH_PROJECTION : VIEW_PROJECTIONS[view];
}

/** The projections the watermark tracker follows: the search one only when a search view is configured. */
export function trackedProjections(views: QueryViews): string[] {
  return [...Object.values(VIEW_PROJECTIONS), ...(views.search ? [SEARCH_PROJECTION] : [])];
}

type SinkOf<K extends ViewKind> = ReturnType<QueryViews[K]>;

interface Closeable {
  close(): Promise<void>;
}

/** The sinks of the views, one per (view, version), created on first use and closed together. */
export class ViewSinks {
  private readonly sinks = new Map<string, Sink<ProjectionDocument>>();
  private readonly searches = new Map<number, ListingSearchView>();
  private closed = false;

  constructor(private readonly views: QueryViews) {}

  sink<K extends ViewKind>(view: K, version: number): SinkOf<K> {
    if (this.closed) throw new Error('the view sinks are closed');
    const id = `${view}.v${version}`;
    let sink = this.sinks.get(id);
    if (!sink) {
      sink = this.views[view](version) as unknown as Sink<ProjectionDocument>;
      this.sinks.set(id, sink);
    }
    return sink as unknown as SinkOf<K>;
  }

  /** Whether a search view is configured. */
  get hasSearch(): boolean {
    return this.views.search !== undefined;
  }

  /** The search view of a version, created on first use. */
  search(version: number): ListingSearchView {
    if (this.closed) throw new Error('the view sinks are closed');
    const factory = this.views.search;
    if (!factory) throw new Error('no search view is configured');
    let view = this.searches.get(version);
    if (!view) {
      view = factory(version);
      this.searches.set(version, view);
    }
    return view;
  }

  /** The checkpoints of a projection version, by projection name (for the watermark tracker). */
  checkpoints(projection: string, version: number): Promise<Map<number, number>> {
    if (projection === SEARCH_PROJECTION && this.views.search) return this.search(version).checkpoints();
    const view = (Object.keys(VIEW_PROJECTIONS) as ViewKind[]).find(
      (k) => VIEW_PROJECTIONS[k] === projection,
    );
    if (!view) return Promise.reject(new Error(`no view reads projection '${projection}'`));
    return this.sink(view, version).checkpoints();
  }

  async close(): Promise<void> {
    this.closed = true;
    const all: Closeable[] = [...this.sinks.values(), ...this.searches.values()];
    this.sinks.clear();
    this.searches.clear();
    await Promise.allSettled(all.map((view) => view.close()));
  }
}
