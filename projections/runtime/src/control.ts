/**
 * The control table in Postgres: projection versions and the active version of each projection. Activation is
 * one transaction that also NOTIFYs tidemark_control (delivered at commit), so every query API instance
 * observes the switch atomically and reloads.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { ProjectionControl, ProjectionVersionRow, ProjectionVersionState, StoreKind } from './contracts';
import { PgListener } from './pg-listener';

export const CONTROL_CHANNEL = 'tidemark_control';
/** Serialises DDL and registrations across processes (pg advisory lock key). */
const CONTROL_LOCK = 0x7469_6d65; // "time"

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
create table if not exists tidemark_projection_active (
  context text not null,
  projection text not null,
  active_version integer not null,
  changed_at timestamptz not null default now(),
  primary key (context, projection)
);`;

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

  /** Creates the tables if missing; concurrent starters wait on the advisory lock instead of racing the DDL. */
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

  private async transaction<T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const result = await run(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async register(projection: {
    context: string;
    name: string;
    version: number;
    store: StoreKind;
  }): Promise<void> {
    await this.ensureSchema();
    const becameActive = await this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [CONTROL_LOCK]);
      const existing = await client.query<{ n: string }>(
        'select count(*) as n from tidemark_projection_versions where context = $1 and projection = $2',
        [projection.context, projection.name],
      );
      const first = Number(existing.rows[0]?.n ?? 0) === 0;
      await client.query(
        `insert into tidemark_projection_versions (context, projection, version, store, state)
         values ($1, $2, $3, $4, $5) on conflict do nothing`,
        [
          projection.context,
          projection.name,
          projection.version,
          projection.store,
          first ? 'live' : 'building',
        ],
      );
      if (!first) return false;
      const inserted = await client.query(
        `insert into tidemark_projection_active (context, projection, active_version)
         values ($1, $2, $3) on conflict do nothing`,
        [projection.context, projection.name, projection.version],
      );
      if ((inserted.rowCount ?? 0) > 0) await client.query('select pg_notify($1, $2)', [CONTROL_CHANNEL, '']);
      return (inserted.rowCount ?? 0) > 0;
    });
    if (becameActive) this.logger.info({ ...projection }, 'first version registered and active');
  }

  async activeVersion(context: string, projection: string): Promise<number | null> {
    await this.ensureSchema();
    const result = await this.pool.query<{ active_version: number }>(
      'select active_version from tidemark_projection_active where context = $1 and projection = $2',
      [context, projection],
    );
    return result.rows[0]?.active_version ?? null;
  }

  async activate(context: string, projection: string, version: number): Promise<void> {
    await this.ensureSchema();
    await this.transaction(async (client) => {
      const known = await client.query(
        'select 1 from tidemark_projection_versions where context = $1 and projection = $2 and version = $3',
        [context, projection, version],
      );
      if ((known.rowCount ?? 0) === 0) {
        throw new Error(`projection ${context}/${projection} has no version ${version}`);
      }
      await client.query(
        `insert into tidemark_projection_active (context, projection, active_version, changed_at)
         values ($1, $2, $3, now())
         on conflict (context, projection) do update set active_version = excluded.active_version, changed_at = now()`,
        [context, projection, version],
      );
      await client.query('select pg_notify($1, $2)', [
        CONTROL_CHANNEL,
        JSON.stringify({ context, projection, version }),
      ]);
    });
    this.logger.info({ context, projection, version }, 'active version changed');
  }

  async list(): Promise<ProjectionVersionRow[]> {
    await this.ensureSchema();
    const result = await this.pool.query<{
      context: string;
      projection: string;
      version: number;
      store: StoreKind;
      state: ProjectionVersionState;
      active: boolean;
    }>(
      `select v.context, v.projection, v.version, v.store, v.state,
              coalesce(a.active_version = v.version, false) as active
         from tidemark_projection_versions v
         left join tidemark_projection_active a on a.context = v.context and a.projection = v.projection
        order by v.context, v.projection, v.version`,
    );
    return result.rows.map((r) => ({ ...r }));
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
