/**
 * The contracts between the projector runtime, the sinks and the query API (DESIGN.md, Projections and sinks).
 *
 * A projection is pure: which documents an event touches (`keys`) and how a document changes (`apply`). A sink
 * is a store: it loads documents, writes them together with the partition's checkpoint, and answers reads.
 * Positions: a document's `position` is the offset just past the last event applied to it, and a partition's
 * checkpoint is the next offset the projector has not applied (its watermark entry). Both only move forward.
 */
import type { ProjectionDefinition, ProjectionDocument, SideEffect, StoreKind } from '@tidemark/sdk';

// What a team defines (the projection itself) is the SDK's; the runtime, the sinks and the query API share it.
export type {
  FailurePolicy,
  KeyScope,
  ProjectionDefinition,
  ProjectionDocument,
  SideEffect,
  StoreKind,
} from '@tidemark/sdk';

/** A document as a sink holds it. `doc: null` is a tombstone: the key is known to be absent since `position`. */
export interface StoredDocument<D extends ProjectionDocument = ProjectionDocument> {
  key: string;
  partition: number;
  doc: D | null;
  /** Offset just past the last event applied to this document. */
  position: number;
}

/**
 * What a sink knows about a key: the stored document (maybe a tombstone), `absent` (never written), or
 * `unknown` (a cache store lost it, e.g. memcached evicted it: the projector must not fold onto it as if absent,
 * and a read must fall back to a view that knows).
 */
export type Lookup<D extends ProjectionDocument = ProjectionDocument> =
  | StoredDocument<D>
  | 'absent'
  | 'unknown';

export interface DocumentWrite<D extends ProjectionDocument = ProjectionDocument> {
  key: string;
  /** null writes a tombstone. */
  doc: D | null;
  position: number;
}

/**
 * One store's view of one projection version. Every projector instance writes only the partitions it owns, so
 * no two writers share a key (documents are per partition). Implementations: projections/postgres, /redis,
 * /memcached (and /elasticsearch); all pass the shared sink contract suite.
 */
export interface Sink<D extends ProjectionDocument = ProjectionDocument> {
  readonly store: StoreKind;
  /**
   * The sink's commit also publishes the partition's new watermark on the Postgres watermark bus's channel, in
   * the same transaction (delivered exactly when the commit is visible): the projector does not publish it again.
   */
  readonly publishesWatermark?: boolean;
  /** Creates this version's targets if missing (table, key prefix, index); idempotent. */
  prepare(): Promise<void>;
  /** partition -> checkpoint (next offset not applied). Partitions never written are missing. The authority. */
  checkpoints(): Promise<Map<number, number>>;
  /** The stored state of each key in partition `partition`; every requested key is in the answer. */
  load(partition: number, keys: readonly string[]): Promise<Map<string, Lookup<D>>>;
  /**
   * Writes the documents and moves the partition's checkpoint to `checkpoint`, atomically where the store can
   * (Postgres transaction, Redis script); where it cannot (memcached), documents first, then the checkpoint.
   * A write whose position is not greater than the stored document's is skipped, and the checkpoint never
   * moves backwards, so re-applying a batch or applying an older one leaves the view unchanged.
   */
  commit(partition: number, writes: readonly DocumentWrite<D>[], checkpoint: number): Promise<void>;
  /** One key's document in one partition, for reads. */
  read(partition: number, key: string): Promise<Lookup<D>>;
  /** Drops every target of this version (retire); afterwards checkpoints() is empty. */
  drop(): Promise<void>;
  /**
   * Makes this version the one readers of the store's own alias see (a store that has one: the Elasticsearch
   * alias `tm-<ctx>-<name>`); the undo restores the previous state. A cutover or rollback calls it inside the
   * control table's transaction and undoes it when that transaction does not commit, so the store and the
   * control table switch together. Activating the version already seen changes nothing; an activation that
   * throws leaves the store as it was. Stores whose readers only follow the control table leave it out.
   */
  activate?(): Promise<{ undo(): Promise<void> }>;
  close(): Promise<void>;
}

/** Creates the sink of a projection version. */
export type SinkFactory<D extends ProjectionDocument = ProjectionDocument> = (
  projection: ProjectionDefinition<D>,
) => Sink<D>;

/** `<ctx>.proj.<name>.v<N>`: the consumer group, and the prefix of every target name of the version. */
export function projectionGroupId(projection: { context: string; name: string; version: number }): string {
  return `${projection.context}.proj.${projection.name}.v${projection.version}`;
}

/** A watermark update: the projection version's partition has applied everything below `offset`. */
export interface WatermarkUpdate {
  context: string;
  projection: string;
  version: number;
  partition: number;
  offset: number;
}

/** The watermark update of a projection version's partition. */
export function watermarkUpdate(
  projection: { context: string; name: string; version: number },
  partition: number,
  offset: number,
): WatermarkUpdate {
  return {
    context: projection.context,
    projection: projection.name,
    version: projection.version,
    partition,
    offset,
  };
}

/**
 * The channel on which projectors announce new watermarks and query APIs listen. It only wakes readers: the
 * store's checkpoints stay the authority, and a listener that (re)connects reloads them.
 */
export interface WatermarkBus {
  publish(updates: readonly WatermarkUpdate[]): Promise<void>;
  /** Calls `listener` for every update; `onReconnect` after a lost connection (reload from the stores). */
  subscribe(
    listener: (update: WatermarkUpdate) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * States of a projection version. `building`: registered by a replay, not yet caught up (only the replay job
 * runs it). `live`: caught up once; projector services run it and keep it current (the active version is always
 * live). `retired`: stopped; its targets are dropped once `retireAfter` has passed. `failed`: a replay or
 * projector gave up on it (e.g. a poison event under `stop`); kept for inspection.
 */
export type ProjectionVersionState = 'building' | 'live' | 'retired' | 'failed';

export interface ProjectionVersionRow {
  context: string;
  projection: string;
  version: number;
  store: StoreKind;
  state: ProjectionVersionState;
  active: boolean;
  registeredAt: Date;
  /** Last state change. */
  updatedAt: Date;
  /** Retired versions: when the targets may be dropped (grace period end). Null otherwise. */
  retireAfter: Date | null;
  /** Retired versions: when the targets were dropped. Null while they exist. */
  droppedAt: Date | null;
}

/** Gradual cutover: `shadow` reads both versions and reports mismatches; `split` serves `percent`% from it. */
export type CandidateMode = 'shadow' | 'split';

export interface ProjectionCandidate {
  version: number;
  mode: CandidateMode;
  /** split: share of reads (0-100) served by the candidate; shadow: 100 (every read is compared). */
  percent: number;
}

/** Where reads of a projection go. */
export interface ProjectionRoute {
  context: string;
  projection: string;
  active: number;
  /** The version active before the last switch: what `rollback` returns to. */
  previous: number | null;
  /** A gradual cutover under way, or null. */
  candidate: ProjectionCandidate | null;
  changedAt: Date;
}

/** One operator action, recorded in the audit log (who, when, what, why). */
export interface AuditEntry {
  /** Who: the API key id for the admin API, `cli:<os user>` for the CLI. */
  actor: string;
  /** What: `replay`, `cutover`, `cutover.shadow`, `cutover.split`, `cutover.abort`, `rollback`, `retire`, ... */
  action: string;
  context: string;
  projection: string;
  version?: number | null;
  /** Why: the operator's --reason (optional). */
  reason?: string | null;
  /** Anything else worth keeping (e.g. watermarks at a cutover, --force). */
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'details'>> {
  id: number;
  at: Date;
  details: Record<string, unknown>;
}

/** Shadow-read results of a candidate version (summed over query API instances). */
export interface ShadowReport {
  context: string;
  projection: string;
  /** The candidate compared with the active version. */
  version: number;
  activeVersion: number;
  reads: number;
  mismatches: number;
  /** Reads the candidate could not answer at the same token in time (not counted as mismatches). */
  skipped: number;
  /** Mismatching keys, newest last (at most 20 kept). */
  sample: { key: string; at: string }[];
}

/** Thrown by control operations whose preconditions fail (mapped to a stable code by the CLI and admin API). */
export class ControlConflictError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ControlConflictError';
  }
}

/**
 * The control table (Postgres): which versions of each projection exist, their states, and where reads go. A
 * change of route is one transaction, announced (NOTIFY tidemark_control) to every listener at commit.
 */
export interface ProjectionControl {
  /**
   * Records a version if new. The first version of a projection becomes live and active; a later one starts in
   * `state` (default 'building'). Registering a known version changes nothing.
   */
  register(
    projection: { context: string; name: string; version: number; store: StoreKind },
    options?: { state?: ProjectionVersionState },
  ): Promise<void>;
  /** The active version, or null when the projection has none. */
  activeVersion(context: string, projection: string): Promise<number | null>;
  /** The route of a projection, or null when it has no active version. */
  route(context: string, projection: string): Promise<ProjectionRoute | null>;
  routes(): Promise<ProjectionRoute[]>;
  /**
   * Makes `version` the active one in one transaction: records the old one as `previous`, clears any candidate,
   * writes the audit entry, and NOTIFYs at commit. Refuses (ControlConflictError) an unknown version
   * (UNKNOWN_VERSION), a version that is not live (VERSION_NOT_LIVE), or, with `expectedActive`, a route that
   * changed meanwhile (ROUTE_CHANGED). `beforeCommit` runs inside the transaction (e.g. the Elasticsearch alias
   * swap): if it throws, nothing changes.
   */
  activate(
    context: string,
    projection: string,
    version: number,
    options?: { expectedActive?: number; audit?: AuditEntry; beforeCommit?: () => Promise<void> },
  ): Promise<void>;
  /** Starts, changes or (null) ends a gradual cutover; the candidate must be live and not active. */
  setCandidate(
    context: string,
    projection: string,
    candidate: ProjectionCandidate | null,
    options?: { audit?: AuditEntry },
  ): Promise<void>;
  /**
   * Moves a version to `state`. Retiring the active version (or the candidate) is refused (VERSION_ACTIVE);
   * `retireAfter` is required for 'retired'. Announced like a route change (projector services reconcile).
   */
  setState(
    context: string,
    projection: string,
    version: number,
    state: ProjectionVersionState,
    options?: { retireAfter?: Date; audit?: AuditEntry },
  ): Promise<void>;
  /** Records that a retired version's targets were dropped. */
  markDropped(context: string, projection: string, version: number): Promise<void>;
  list(): Promise<ProjectionVersionRow[]>;
  /**
   * Adds a query API instance's shadow-read counts for a candidate (gradual cutover): reads compared, mismatches,
   * and a few mismatching keys as a sample (the newest kept).
   */
  reportShadow(report: ShadowReport): Promise<void>;
  /** Accumulated shadow-read counts per candidate version of a projection. */
  shadowReports(context: string, projection: string): Promise<ShadowReport[]>;
  /** Appends to the audit log. */
  audit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  auditLog(filter?: { context?: string; projection?: string; limit?: number }): Promise<AuditRecord[]>;
  /** Calls `listener` after every change of a route or a version state (and on reconnect, to reload). */
  subscribe(listener: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** An effect with the event position that caused it. */
export interface PositionedSideEffect {
  partition: number;
  offset: number;
  effect: SideEffect;
}

/**
 * Where side effects are recorded (the outbox a delivery worker drains). Only the projector of the active
 * version records; a version that becomes active first records the effects of the events it applied while
 * inactive and no active version recorded (from `progress` up to its own checkpoint).
 */
export interface SideEffectOutbox {
  /**
   * Records effects (an effect already recorded is ignored) and moves the partition's progress to at least
   * `progress` (the next offset whose effects are not recorded). Returns how many were new.
   */
  record(
    projection: { context: string; name: string; version: number },
    partition: number,
    effects: readonly PositionedSideEffect[],
    progress: number,
  ): Promise<number>;
  /** partition -> next offset whose effects are not recorded yet (shared by every version of the projection). */
  progress(context: string, projection: string): Promise<Map<number, number>>;
  close(): Promise<void>;
}
