/**
 * A projection (DESIGN.md, Projections and sinks): a name, a version, the store it lives in, the event types it
 * reads, which documents an event touches (`keys`) and a pure `apply` from (current document or null, event) to
 * the next document or null (delete). The runtime and the sinks turn that into store writes; a team writes only
 * this. `defineProjection` types `apply` from the context's events, so a fold never casts.
 */
import type { EventEnvelope } from '@tidemark/schemas';
import type { z } from 'zod';
import type { ContextDefinition, ContextEvent } from './context';
import type { DomainEvent } from './decider';
import type { SearchMappings } from './search-mappings';

export type StoreKind = 'postgres' | 'redis' | 'memcached' | 'elasticsearch';
export const STORE_KINDS: readonly StoreKind[] = ['postgres', 'redis', 'memcached', 'elasticsearch'];

/** A JSON document as stored in a view. */
export type ProjectionDocument = { [key: string]: unknown };

/** What happens to an event whose apply keeps failing: the partition halts, or the event is set aside. */
export type FailurePolicy = 'stop' | 'dead-letter';

/**
 * Which partitions hold a key's documents. `aggregate`: the key is an aggregate id, so its one document lives in
 * partitionForKey(key, P). `all`: every partition may hold a sub-document of the key (e.g. per-seller counters),
 * and a read merges them with `merge`.
 */
export type KeyScope = 'aggregate' | 'all';

/** Names of consumer groups and store targets come from it. */
export const PROJECTION_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * A side effect of an event (a notification, a webhook call), declared by a projection's `effects`. Its identity
 * is (context, projection name, partition, offset, key): the same for every version of the projection, so a
 * replayed version can never record it twice.
 */
export interface SideEffect {
  /** e.g. `notify-<recipient>.<what-happened>`. */
  kind: string;
  /** Unique among the effects of one event (e.g. the kind plus a recipient). */
  key: string;
  payload: Record<string, unknown>;
}

/** The projection as the platform runs it (erased event types). */
export interface ProjectionDefinition<D extends ProjectionDocument = ProjectionDocument> {
  /** Context whose `<ctx>.events` topic feeds this projection. */
  readonly context: string;
  /** Projection name, e.g. `<thing>-detail` (lowercase, digits and dashes; unique in a deployment). */
  readonly name: string;
  /** Version >= 1; each version has its own targets and consumer group `<ctx>.proj.<name>.v<N>`. */
  readonly version: number;
  readonly store: StoreKind;
  readonly keyScope: KeyScope;
  /** Event types this projection reads; others are skipped (but still advance the checkpoint). */
  readonly eventTypes: readonly string[];
  readonly failurePolicy: FailurePolicy;
  /** Keys of the documents the event changes; [] when it changes none. Must not throw for a readable event. */
  keys(event: EventEnvelope): string[];
  /**
   * The next document, or null for "no document" (deleted or never created). Pure; may throw for an event it
   * cannot handle (a poison event), which the failure policy then deals with.
   */
  apply(current: D | null, event: EventEnvelope, key: string): D | null;
  /** Top-level document fields that reads filter on: a store indexes them (Postgres expression indexes). */
  readonly indexes?: readonly string[];
  /** For keyScope 'all': combines the partitions' sub-documents of a key into the document a read returns. */
  merge?(parts: readonly D[]): D;
  /**
   * Side effects of an event: pure, from the event alone, so that any version computes the same ones. Recorded
   * only by the active version's projector, never twice.
   */
  effects?(event: EventEnvelope): SideEffect[];
  /** Search views (store 'elasticsearch'): the index mappings of the document's fields. */
  readonly search?: { readonly mappings: SearchMappings };
  /** The document's schema, when the projection declares one: the query API's OpenAPI document shows it. */
  readonly document?: z.ZodType;
  /** Type-level only: the document type, so that queries over this view are typed from it. */
  readonly __document?: D;
}

/** An event envelope whose `type` and `payload` are one of the context's events (payload in its latest version). */
export type TypedEvent<E extends DomainEvent> = E extends DomainEvent
  ? Omit<EventEnvelope, 'type' | 'payload'> & { type: E['type']; payload: E['payload'] }
  : never;

interface ProjectionSpecBase<Ctx extends ContextDefinition, T extends ContextEvent<Ctx>['type'], D> {
  context: Ctx;
  name: string;
  /** Default 1. */
  version?: number;
  /** The event types read; the others are skipped. */
  events: readonly T[];
  /** Default 'stop'. */
  failurePolicy?: FailurePolicy;
  apply(current: D | null, event: TypedEvent<Extract<ContextEvent<Ctx>, { type: T }>>, key: string): D | null;
  effects?(event: TypedEvent<Extract<ContextEvent<Ctx>, { type: T }>>): SideEffect[];
  indexes?: readonly (keyof D & string)[];
  /** The document's zod schema (optional): what readers are told the document looks like (OpenAPI). */
  document?: z.ZodType<D>;
}

/** A view with one document per aggregate (the default): keyed by aggregate id unless `key` says otherwise. */
export interface AggregateProjectionSpec<
  Ctx extends ContextDefinition,
  T extends ContextEvent<Ctx>['type'],
  D,
> extends ProjectionSpecBase<Ctx, T, D> {
  keyScope?: 'aggregate';
}

/**
 * A view whose documents gather events of many aggregates (per-seller counters): each partition keeps its own
 * sub-document of a key, and reads merge them.
 */
export interface GatheringProjectionSpec<
  Ctx extends ContextDefinition,
  T extends ContextEvent<Ctx>['type'],
  D,
> extends ProjectionSpecBase<Ctx, T, D> {
  keyScope: 'all';
  /** The keys an event counts for (null or [] for none). */
  key(event: TypedEvent<Extract<ContextEvent<Ctx>, { type: T }>>): string | readonly string[] | null;
  merge(parts: readonly D[]): D;
}

type StoreSpec<D> =
  | { store: 'postgres' | 'redis' | 'memcached' }
  | { store: 'elasticsearch'; search: { mappings: SearchMappings<D> } };

export type ProjectionSpec<Ctx extends ContextDefinition, T extends ContextEvent<Ctx>['type'], D> = (
  | AggregateProjectionSpec<Ctx, T, D>
  | GatheringProjectionSpec<Ctx, T, D>
) &
  StoreSpec<D>;

/**
 * Defines a projection of a context. Events reach `apply` validated and upcast to their latest schema version
 * (the runtime reads them through the context's registry; an event read here again costs a symbol lookup).
 */
export function defineProjection<
  Ctx extends ContextDefinition,
  const T extends ContextEvent<Ctx>['type'],
  D extends ProjectionDocument,
>(spec: ProjectionSpec<Ctx, T, D>): ProjectionDefinition<D> {
  const { context } = spec;
  const version = spec.version ?? 1;
  if (!PROJECTION_NAME.test(spec.name)) {
    throw new Error(
      `projection name '${spec.name}' must be lowercase letters, digits and dashes (at most 63)`,
    );
  }
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new Error(`projection ${spec.name}: version must be a whole number >= 1`);
  }
  const types = new Set<string>(spec.events);
  for (const type of types) {
    if (!context.events.has(type)) {
      throw new Error(`projection ${spec.name}: context ${context.name} has no event type '${type}'`);
    }
  }
  type Typed = TypedEvent<Extract<ContextEvent<Ctx>, { type: T }>>;
  // The runtime hands over envelopes whose payload the registry has read (marked): reading again is a lookup. An
  // envelope from elsewhere (a test, a tool) is read here, so `apply` always sees the latest schema version.
  const typed = (event: EventEnvelope): Typed => {
    const payload = context.events.read(event.type, event.schemaVersion, event.payload);
    if (payload === event.payload) return event as Typed;
    return { ...event, payload, schemaVersion: context.events.latestVersion(event.type) } as Typed;
  };
  const gathering = spec.keyScope === 'all' ? spec : null;
  const keys = gathering
    ? (event: EventEnvelope): string[] => {
        if (!types.has(event.type)) return [];
        const found = gathering.key(typed(event));
        if (found === null) return [];
        return typeof found === 'string' ? [found] : [...found];
      }
    : (event: EventEnvelope): string[] => [event.aggregate.id];
  const { apply, effects } = spec;
  return {
    context: context.name,
    name: spec.name,
    version,
    store: spec.store,
    keyScope: gathering ? 'all' : 'aggregate',
    eventTypes: [...types],
    failurePolicy: spec.failurePolicy ?? 'stop',
    keys,
    apply: (current, event, key) => apply(current, typed(event), key),
    ...(spec.indexes ? { indexes: spec.indexes } : {}),
    ...(spec.document ? { document: spec.document } : {}),
    ...(gathering ? { merge: gathering.merge } : {}),
    ...(effects ? { effects: (event: EventEnvelope) => effects(typed(event)) } : {}),
    ...(spec.store === 'elasticsearch' ? { search: { mappings: spec.search.mappings } } : {}),
  };
}

/** The same projection at another version or failure policy: how a fixed version N+1 ships beside N. */
export function withVersion<D extends ProjectionDocument>(
  projection: ProjectionDefinition<D>,
  version: number,
  changes: Partial<Pick<ProjectionDefinition<D>, 'apply' | 'failurePolicy' | 'effects'>> = {},
): ProjectionDefinition<D> {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new Error(`projection ${projection.name}: version must be a whole number >= 1`);
  }
  return { ...projection, ...changes, version };
}

/** The document type of a projection. */
export type DocumentOf<P> = P extends ProjectionDefinition<infer D> ? D : never;
