/**
 * The control table in Postgres: projection versions, their states, and the route of each projection (active
 * version, previous one, gradual-cutover candidate). Every change of a route or a state is one transaction,
 * serialised by an advisory lock, that also NOTIFYs tidemark_control (delivered at commit), so every query API
 * instance and projector service observes it atomically and reloads. Operator actions are recorded in the audit
 * log in the same transaction as the change they describe.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type {
  AuditEntry,
  AuditRecord,
  CandidateMode,
  ProjectionCandidate,
  ProjectionControl,
  ProjectionRoute,
  ProjectionVersionRow,
  ProjectionVersionState,
  ShadowReport,
  StoreKind,
} from './contracts';
import { ControlConflictError } from './contracts';
import { PgListener } from './pg-listener';
import { inTransaction } from './pg-transaction';

export const CONTROL_CHANNEL = 'tidemark_control';
/** Serialises DDL, registrations and route/state changes across processes (pg advisory lock key). */
const CONTROL_LOCK = 0x7469_6d65; // "time"
/** Mismatching keys kept per shadow report. */
export const SHADOW_SAMPLE_SIZE = 20;

const STATES: readonly ProjectionVersionState[] = ['building', 'live', 'retired', 'failed'];

// `add column if not exists`: data directories created before routes and states existed keep working.
const SCHEMA = `
create table if not exists tidemark_projection_versions (
  context text not null,
  projection text not null,
  version integer not null,
  store text not null,
  state text not null,
  registered_at timestamptz not null default now(),
  primary key (context, projection, version)
);
alter table tidemark_projection_versions
  add column if not exists updated_at timestamptz not null default now(),
  add column if not exists retire_after timestamptz,
  add column if not exists dropped_at timestamptz;
create table if not exists tidemark_projection_active (
  context text not null,
  projection text not null,
  active_version integer not null,
  changed_at timestamptz not null default now(),
  primary key (context, projection)
);
alter table tidemark_projection_active
  add column if not exists previous_version integer,
  add column if not exists candidate_version integer,
  add column if not exists candidate_mode text,
  add column if not exists candidate_percent integer;
create table if not exists tidemark_audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  context text not null,
  projection text not null,
  version integer,
  reason text,
  details jsonb not null default '{}'::jsonb
);
create index if not exists tidemark_audit_log_projection on tidemark_audit_log (context, projection, id);
create table if not exists tidemark_shadow_reports (
  context text not null,
  projection text not null,
  version integer not null,
  active_version integer not null,
  reads bigint not null default 0,
  mismatches bigint not null default 0,
  skipped bigint not null default 0,
  sample jsonb not null default '[]'::jsonb,
  primary key (context, projection, version, active_version)
);`;

interface VersionDbRow {
  context: string;
  projection: string;
  version: number;
  store: StoreKind;
  state: ProjectionVersionState;
  active: boolean;
  registered_at: Date;
  updated_at: Date;
  retire_after: Date | null;
  dropped_at: Date | null;
}

interface RouteDbRow {
  context: string;
  projection: string;
  active_version: number;
  previous_version: number | null;
  candidate_version: number | null;
  candidate_mode: CandidateMode | null;
  candidate_percent: number | null;
  changed_at: Date;
}

const ROUTE_COLUMNS = `context, projection, active_version, previous_version, candidate_version, candidate_mode,
  candidate_percent, changed_at`;

function toRoute(row: RouteDbRow): ProjectionRoute {
  return {
    context: row.context,
    projection: row.projection,
    active: row.active_version,
    previous: row.previous_version,
    candidate:
      row.candidate_version === null
        ? null
        : {
            version: row.candidate_version,
            mode: row.candidate_mode ?? 'shadow',
            percent: row.candidate_percent ?? 100,
          },
    changedAt: row.changed_at,
  };
}

export interface PostgresProjectionControlOptions {
  connectionString: string;
  logger: Logger;
}

export class PostgresProjectionControl implements ProjectionControl {
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private ready: Promise<void> | null = null;
  private listener: PgListener | null = null;
  private starting: Promise<PgListener> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly options: PostgresProjectionControlOptions) {
    this.logger = options.logger.child({ component: 'projection-control' });
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 3 });
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'idle control connection failed'));
  }

  /** Creates or upgrades the tables; concurrent starters wait on the advisory lock instead of racing the DDL. */
  ensureSchema(): Promise<void> {
    this.ready ??= this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [CONTROL_LOCK]);
      await client.query(SCHEMA);
    }).catch((error: unknown) => {
      this.ready = null;
      throw error;
    });
    return this.ready;
  }

  private transaction<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, run);
  }

  /** A change of routes or states: schema ready, one transaction under the control lock, NOTIFY at commit. */
  private async change<T>(
    announce: Record<string, unknown>,
    run: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    await this.ensureSchema();
    return this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [CONTROL_LOCK]);
      const result = await run(client);
      await client.query('select pg_notify($1, $2)', [CONTROL_CHANNEL, JSON.stringify(announce)]);
      return result;
    });
  }

  private async versionRow(
    client: pg.PoolClient,
    context: string,
    projection: string,
    version: number,
  ): Promise<{ state: ProjectionVersionState; dropped_at: Date | null }> {
    const result = await client.query<{ state: ProjectionVersionState; dropped_at: Date | null }>(
      `select state, dropped_at from tidemark_projection_versions
        where context = $1 and projection = $2 and version = $3`,
      [context, projection, version],
    );
    const row = result.rows[0];
    if (!row) {
      throw new ControlConflictError(
        'UNKNOWN_VERSION',
        `projection ${context}/${projection} has no version ${version}`,
        { context, projection, version },
      );
    }
    return row;
  }

  private async routeRow(
    client: pg.PoolClient,
    context: string,
    projection: string,
  ): Promise<RouteDbRow | null> {
    const result = await client.query<RouteDbRow>(
      `select ${ROUTE_COLUMNS} from tidemark_projection_active where context = $1 and projection = $2 for update`,
      [context, projection],
    );
    return result.rows[0] ?? null;
  }

  private async insertAudit(client: pg.PoolClient | pg.Pool, entry: AuditEntry): Promise<void> {
    await client.query(
      `insert into tidemark_audit_log (actor, action, context, projection, version, reason, details)
       values ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [
        entry.actor,
        entry.action,
        entry.context,
        entry.projection,
        entry.version ?? null,
        entry.reason ?? null,
        JSON.stringify(entry.details ?? {}),
      ],
    );
  }

  async register(
    projection: { context: string; name: string; version: number; store: StoreKind },
    options: { state?: ProjectionVersionState } = {},
  ): Promise<void> {
    const state = options.state ?? 'building';
    if (!STATES.includes(state) || state === 'retired') {
      throw new ControlConflictError('INVALID_STATE', `a version cannot be registered as '${state}'`, {
        state,
      });
    }
    const { context, name, version } = projection;
    await this.ensureSchema();
    const outcome = await this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [CONTROL_LOCK]);
      const existing = await client.query<{ version: number }>(
        'select version from tidemark_projection_versions where context = $1 and projection = $2',
        [context, name],
      );
      if (existing.rows.some((r) => r.version === version)) return 'known' as const;
      const first = existing.rows.length === 0;
      await client.query(
        `insert into tidemark_projection_versions (context, projection, version, store, state)
         values ($1, $2, $3, $4, $5)`,
        [context, name, version, projection.store, first ? 'live' : state],
      );
      if (first) {
        await client.query(
          `insert into tidemark_projection_active (context, projection, active_version)
           values ($1, $2, $3) on conflict do nothing`,
          [context, name, version],
        );
      }
      await client.query('select pg_notify($1, $2)', [
        CONTROL_CHANNEL,
        JSON.stringify({ context, projection: name, version, change: 'register' }),
      ]);
      return first ? ('active' as const) : ('registered' as const);
    });
    if (outcome === 'active') this.logger.info({ ...projection }, 'first version registered and active');
    else if (outcome === 'registered') this.logger.info({ ...projection, state }, 'version registered');
  }

  async activeVersion(context: string, projection: string): Promise<number | null> {
    await this.ensureSchema();
    const result = await this.pool.query<{ active_version: number }>(
      'select active_version from tidemark_projection_active where context = $1 and projection = $2',
      [context, projection],
    );
    return result.rows[0]?.active_version ?? null;
  }

  async route(context: string, projection: string): Promise<ProjectionRoute | null> {
    await this.ensureSchema();
    const result = await this.pool.query<RouteDbRow>(
      `select ${ROUTE_COLUMNS} from tidemark_projection_active where context = $1 and projection = $2`,
      [context, projection],
    );
    const row = result.rows[0];
    return row ? toRoute(row) : null;
  }

  async routes(): Promise<ProjectionRoute[]> {
    await this.ensureSchema();
    const result = await this.pool.query<RouteDbRow>(
      `select ${ROUTE_COLUMNS} from tidemark_projection_active order by context, projection`,
    );
    return result.rows.map(toRoute);
  }

  async activate(
    context: string,
    projection: string,
    version: number,
    options: { expectedActive?: number; audit?: AuditEntry; beforeCommit?: () => Promise<void> } = {},
  ): Promise<void> {
    const previous = await this.change(
      { context, projection, version, change: 'activate' },
      async (client) => {
        const target = await this.versionRow(client, context, projection, version);
        if (target.state !== 'live') {
          throw new ControlConflictError(
            'VERSION_NOT_LIVE',
            `version ${version} of ${context}/${projection} is ${target.state}, not live`,
            { context, projection, version, state: target.state },
          );
        }
        const current = await this.routeRow(client, context, projection);
        const currentActive = current?.active_version ?? null;
        if (options.expectedActive !== undefined && options.expectedActive !== currentActive) {
          throw new ControlConflictError(
            'ROUTE_CHANGED',
            `the active version of ${context}/${projection} is ${currentActive ?? 'none'}, not ${options.expectedActive}`,
            { context, projection, expected: options.expectedActive, actual: currentActive },
          );
        }
        if (currentActive === version) {
          throw new ControlConflictError(
            'ALREADY_ACTIVE',
            `version ${version} of ${context}/${projection} is already active`,
            { context, projection, version },
          );
        }
        await client.query(
          `insert into tidemark_projection_active (context, projection, active_version, previous_version, changed_at)
         values ($1, $2, $3, $4, now())
         on conflict (context, projection) do update set
           active_version = excluded.active_version, previous_version = excluded.previous_version,
           candidate_version = null, candidate_mode = null, candidate_percent = null, changed_at = now()`,
          [context, projection, version, currentActive],
        );
        if (options.audit) await this.insertAudit(client, options.audit);
        // Last, so that a failure (e.g. the Elasticsearch alias swap) leaves nothing changed.
        await options.beforeCommit?.();
        return currentActive;
      },
    );
    this.logger.info({ context, projection, version, previous }, 'active version changed');
  }

  async setCandidate(
    context: string,
    projection: string,
    candidate: ProjectionCandidate | null,
    options: { audit?: AuditEntry } = {},
  ): Promise<void> {
    if (candidate) {
      if (candidate.mode !== 'shadow' && candidate.mode !== 'split') {
        throw new ControlConflictError(
          'INVALID_CANDIDATE',
          `unknown candidate mode '${String(candidate.mode)}'`,
        );
      }
      if (!Number.isFinite(candidate.percent) || candidate.percent < 0 || candidate.percent > 100) {
        throw new ControlConflictError(
          'INVALID_CANDIDATE',
          `candidate percent must be 0-100, got ${candidate.percent}`,
        );
      }
    }
    await this.change(
      { context, projection, version: candidate?.version ?? null, change: 'candidate' },
      async (client) => {
        const current = await this.routeRow(client, context, projection);
        if (!current) {
          throw new ControlConflictError(
            'NO_ACTIVE_VERSION',
            `projection ${context}/${projection} has no active version`,
            {
              context,
              projection,
            },
          );
        }
        if (candidate) {
          const target = await this.versionRow(client, context, projection, candidate.version);
          if (target.state !== 'live') {
            throw new ControlConflictError(
              'VERSION_NOT_LIVE',
              `version ${candidate.version} of ${context}/${projection} is ${target.state}, not live`,
              { context, projection, version: candidate.version, state: target.state },
            );
          }
          if (candidate.version === current.active_version) {
            throw new ControlConflictError(
              'VERSION_ACTIVE',
              `version ${candidate.version} of ${context}/${projection} is the active version`,
              { context, projection, version: candidate.version },
            );
          }
        }
        await client.query(
          `update tidemark_projection_active
            set candidate_version = $3, candidate_mode = $4, candidate_percent = $5, changed_at = now()
          where context = $1 and projection = $2`,
          [
            context,
            projection,
            candidate?.version ?? null,
            candidate?.mode ?? null,
            candidate?.percent ?? null,
          ],
        );
        if (options.audit) await this.insertAudit(client, options.audit);
      },
    );
    this.logger.info({ context, projection, candidate }, candidate ? 'candidate set' : 'candidate cleared');
  }

  async setState(
    context: string,
    projection: string,
    version: number,
    state: ProjectionVersionState,
    options: { retireAfter?: Date; audit?: AuditEntry } = {},
  ): Promise<void> {
    if (!STATES.includes(state)) {
      throw new ControlConflictError('INVALID_STATE', `unknown state '${String(state)}'`, { state });
    }
    if (state === 'retired' && !options.retireAfter) {
      throw new ControlConflictError('RETIRE_AFTER_REQUIRED', 'retiring a version needs a retireAfter time');
    }
    await this.change({ context, projection, version, state, change: 'state' }, async (client) => {
      const row = await this.versionRow(client, context, projection, version);
      if (state !== 'live') {
        // The active version is always live; a candidate must stay live while reads may go to it.
        const route = await this.routeRow(client, context, projection);
        const role =
          route?.active_version === version
            ? 'active'
            : route?.candidate_version === version
              ? 'candidate'
              : null;
        if (role) {
          throw new ControlConflictError(
            'VERSION_ACTIVE',
            `version ${version} of ${context}/${projection} is the ${role} version; it cannot become ${state}`,
            { context, projection, version, role, state },
          );
        }
      }
      if (row.dropped_at && state !== 'retired' && state !== 'failed') {
        throw new ControlConflictError(
          'VERSION_DROPPED',
          `version ${version} of ${context}/${projection} was dropped; register a new version instead`,
          { context, projection, version, droppedAt: row.dropped_at.toISOString() },
        );
      }
      await client.query(
        `update tidemark_projection_versions set state = $4, retire_after = $5, updated_at = now()
          where context = $1 and projection = $2 and version = $3`,
        [context, projection, version, state, state === 'retired' ? (options.retireAfter ?? null) : null],
      );
      if (options.audit) await this.insertAudit(client, options.audit);
    });
    this.logger.info(
      { context, projection, version, state, retireAfter: options.retireAfter },
      'version state changed',
    );
  }

  async markDropped(context: string, projection: string, version: number): Promise<void> {
    await this.ensureSchema();
    await this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [CONTROL_LOCK]);
      const row = await this.versionRow(client, context, projection, version);
      if (row.state !== 'retired') {
        throw new ControlConflictError(
          'VERSION_NOT_RETIRED',
          `version ${version} of ${context}/${projection} is ${row.state}; only retired versions are dropped`,
          { context, projection, version, state: row.state },
        );
      }
      await client.query(
        `update tidemark_projection_versions set dropped_at = coalesce(dropped_at, now())
          where context = $1 and projection = $2 and version = $3`,
        [context, projection, version],
      );
    });
  }

  async list(): Promise<ProjectionVersionRow[]> {
    await this.ensureSchema();
    const result = await this.pool.query<VersionDbRow>(
      `select v.context, v.projection, v.version, v.store, v.state,
              coalesce(a.active_version = v.version, false) as active,
              v.registered_at, v.updated_at, v.retire_after, v.dropped_at
         from tidemark_projection_versions v
         left join tidemark_projection_active a on a.context = v.context and a.projection = v.projection
        order by v.context, v.projection, v.version`,
    );
    return result.rows.map((r) => ({
      context: r.context,
      projection: r.projection,
      version: r.version,
      store: r.store,
      state: r.state,
      active: r.active,
      registeredAt: r.registered_at,
      updatedAt: r.updated_at,
      retireAfter: r.retire_after,
      droppedAt: r.dropped_at,
    }));
  }

  async reportShadow(report: ShadowReport): Promise<void> {
    await this.ensureSchema();
    await this.pool.query(
      `insert into tidemark_shadow_reports as r
         (context, projection, version, active_version, reads, mismatches, skipped, sample)
       values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
       on conflict (context, projection, version, active_version) do update set
         reads = r.reads + excluded.reads,
         mismatches = r.mismatches + excluded.mismatches,
         skipped = r.skipped + excluded.skipped,
         sample = (
           select coalesce(jsonb_agg(kept.e order by kept.n), '[]'::jsonb)
             from (select e, n from jsonb_array_elements(r.sample || excluded.sample) with ordinality as s(e, n)
                    order by n desc limit ${SHADOW_SAMPLE_SIZE}) kept)`,
      [
        report.context,
        report.projection,
        report.version,
        report.activeVersion,
        report.reads,
        report.mismatches,
        report.skipped,
        JSON.stringify(report.sample.slice(-SHADOW_SAMPLE_SIZE)),
      ],
    );
  }

  async shadowReports(context: string, projection: string): Promise<ShadowReport[]> {
    await this.ensureSchema();
    const result = await this.pool.query<{
      version: number;
      active_version: number;
      reads: string;
      mismatches: string;
      skipped: string;
      sample: { key: string; at: string }[];
    }>(
      `select version, active_version, reads, mismatches, skipped, sample from tidemark_shadow_reports
        where context = $1 and projection = $2 order by version, active_version`,
      [context, projection],
    );
    return result.rows.map((r) => ({
      context,
      projection,
      version: r.version,
      activeVersion: r.active_version,
      reads: Number(r.reads),
      mismatches: Number(r.mismatches),
      skipped: Number(r.skipped),
      sample: r.sample,
    }));
  }

  async audit(entry: AuditEntry): Promise<void> {
    await this.ensureSchema();
    await this.insertAudit(this.pool, entry);
  }

  async auditLog(
    filter: { context?: string; projection?: string; limit?: number } = {},
  ): Promise<AuditRecord[]> {
    await this.ensureSchema();
    const result = await this.pool.query<{
      id: string;
      at: Date;
      actor: string;
      action: string;
      context: string;
      projection: string;
      version: number | null;
      reason: string | null;
      details: Record<string, unknown>;
    }>(
      `select id, at, actor, action, context, projection, version, reason, details from tidemark_audit_log
        where ($1::text is null or context = $1) and ($2::text is null or projection = $2)
        order by id desc limit $3`,
      [filter.context ?? null, filter.projection ?? null, filter.limit ?? 100],
    );
    return result.rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      actor: r.actor,
      action: r.action,
      context: r.context,
      projection: r.projection,
      version: r.version,
      reason: r.reason,
      details: r.details,
    }));
  }

  async subscribe(listener: () => void): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    try {
      await this.ensureListening();
    } catch (error) {
      this.listeners.delete(listener);
      throw error;
    }
    return async () => {
      this.listeners.delete(listener);
    };
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.logger.warn({ err: error }, 'control listener failed');
      }
    }
  }

  private ensureListening(): Promise<PgListener> {
    if (this.listener) return Promise.resolve(this.listener);
    this.starting ??= PgListener.start({
      connectionString: this.options.connectionString,
      channel: CONTROL_CHANNEL,
      logger: this.logger,
      onNotification: () => this.notify(),
      // Changes made while disconnected were not announced: have every listener reload.
      onReconnect: () => this.notify(),
    }).then(
      (listener) => {
        this.listener = listener;
        this.starting = null;
        return listener;
      },
      (error: unknown) => {
        this.starting = null;
        throw error;
      },
    );
    return this.starting;
  }

  /** For tests: the LISTEN connection's backend pid. */
  async listenerBackendPid(): Promise<number | null> {
    return (await this.listener?.backendPid()) ?? null;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    const listener = this.listener ?? (await this.starting?.catch(() => null)) ?? null;
    this.listener = null;
    await listener?.close();
    await this.pool.end();
  }
}

export function createPostgresProjectionControl(
  options: PostgresProjectionControlOptions,
): PostgresProjectionControl {
  return new PostgresProjectionControl(options);
}
