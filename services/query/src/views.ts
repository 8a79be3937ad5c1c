import {
  LISTING_CARD_PROJECTION,
  LISTING_DETAIL_PROJECTION,
  SELLER_STATS_PROJECTION,
} from '@tidemark/listings-projections';
import type { ProjectionDocument, Sink } from '@tidemark/projection-runtime';
import type { QueryViews } from './options';

export type ViewKind = keyof QueryViews;

/** The projection (control table name) behind each view the API reads. */
export const VIEW_PROJECTIONS: Readonly<Record<ViewKind, string>> = {
  detail: LISTING_DETAIL_PROJECTION,
  sellerStats: SELLER_STATS_PROJECTION,
  cards: LISTING_CARD_PROJECTION,
};

type SinkOf<K extends ViewKind> = ReturnType<QueryViews[K]>;

/** The sinks of the views, one per (view, version), created on first use and closed together. */
export class ViewSinks {
  private readonly sinks = new Map<string, Sink<ProjectionDocument>>();
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

  /** The checkpoints of a projection version, by projection name (for the watermark tracker). */
  checkpoints(projection: string, version: number): Promise<Map<number, number>> {
    const view = (Object.keys(VIEW_PROJECTIONS) as ViewKind[]).find(
      (k) => VIEW_PROJECTIONS[k] === projection,
    );
    if (!view) return Promise.reject(new Error(`no view reads projection '${projection}'`));
    return this.sink(view, version).checkpoints();
  }

  async close(): Promise<void> {
    this.closed = true;
    const sinks = [...this.sinks.values()];
    this.sinks.clear();
    await Promise.allSettled(sinks.map((sink) => sink.close()));
  }
}
