/**
 * The side-effect outbox in Postgres (DESIGN.md, Versions and cutover). An effect's identity is (context,
 * projection name, partition, offset, key): the same for every version of the projection, so recording is an
 * insert that ignores an effect already there, and a replayed version, a re-applied chunk or two versions
 * racing across a cutover never record one twice. Per partition, `next_offset` is the shared progress: every
 * effect of the events below it is recorded (it only moves forward).
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { PositionedSideEffect, SideEffectOutbox } from './contracts';
import { inTransaction } from './pg-transaction';

/** Serialises the DDL across processes (pg advisory lock key). */
const OUTBOX_LOCK = 0x7469_6d66;

const SCHEMA = `
create table if not exists tidemark_side_effects (
  context text not null,
  projection text not null,
  partition integer not null,
  "offset" bigint not null,
  effect_key text not null,
  kind text not null,
  payload jsonb not null,
  version integer not null,
  recorded_at timestamptz not null default now(),
  primary key (context, projection, partition, "offset", effect_key)
);
create table if not exists tidemark_side_effect_progress (
  context text not null,
  projection text not null,
  partition integer not null,
  next_offset bigint not null,
  primary key (context, projection, partition)
);`;

/** An effect as the outbox holds it. */
export interface RecordedSideEffect {
  context: string;
  projection: string;
  partition: number;
  offset: number;
  key: string;
  kind: string;
  payload: Record<string, unknown>;
  /** The version whose projector recorded it. */
  version: number;
  recordedAt: Date;
}

export interface PostgresSideEffectOutboxOptions {
  connectionString: string;
  logger: Logger;
}

export class PostgresSideEffectOutbox implements SideEffectOutbox {
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private ready: Promise<void> | null = null;

  constructor(options: PostgresSideEffectOutboxOptions) {
    this.logger = options.logger.child({ component: 'side-effect-outbox' });
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 4 });
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'idle outbox connection failed'));
  }

  ensureSchema(): Promise<void> {
    this.ready ??= this.transaction(async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [OUTBOX_LOCK]);
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

  async record(
    projection: { context: string; name: string; version: number },
    partition: number,
    effects: readonly PositionedSideEffect[],
    progress: number,
  ): Promise<number> {
    const foreign = effects.find((e) => e.partition !== partition);
    if (foreign) {
      throw new Error(`effect of partition ${foreign.partition} recorded as partition ${partition}`);
    }
    await this.ensureSchema();
    const inserted = await this.transaction(async (client) => {
      let count = 0;
      if (effects.length > 0) {
        const rows = effects.map((e) => ({
          offset: e.offset,
          key: e.effect.key,
          kind: e.effect.kind,
          payload: e.effect.payload,
        }));
        const result = await client.query(
          `insert into tidemark_side_effects
             (context, projection, partition, "offset", effect_key, kind, payload, version)
           select $1, $2, $3, e."offset", e.key, e.kind, e.payload, $4
             from jsonb_to_recordset($5::jsonb) as e("offset" bigint, key text, kind text, payload jsonb)
           on conflict do nothing`,
          [projection.context, projection.name, partition, projection.version, JSON.stringify(rows)],
        );
        count = result.rowCount ?? 0;
      }
      await client.query(
        `insert into tidemark_side_effect_progress as p (context, projection, partition, next_offset)
         values ($1, $2, $3, $4)
         on conflict (context, projection, partition) do update
           set next_offset = greatest(p.next_offset, excluded.next_offset)`,
        [projection.context, projection.name, partition, progress],
      );
      return count;
    });
    if (inserted > 0) {
      this.logger.debug({ ...projection, partition, inserted, progress }, 'side effects recorded');
    }
    return inserted;
  }

  async progress(context: string, projection: string): Promise<Map<number, number>> {
    await this.ensureSchema();
    const result = await this.pool.query<{ partition: number; next_offset: string }>(
      `select partition, next_offset from tidemark_side_effect_progress where context = $1 and projection = $2`,
      [context, projection],
    );
    return new Map(result.rows.map((r) => [r.partition, Number(r.next_offset)]));
  }

  /** Every recorded effect of a projection, by partition and offset (for tests and ops). */
  async list(context: string, projection: string): Promise<RecordedSideEffect[]> {
    await this.ensureSchema();
    const result = await this.pool.query<{
      partition: number;
      offset: string;
      effect_key: string;
      kind: string;
      payload: Record<string, unknown>;
      version: number;
      recorded_at: Date;
    }>(
      `select partition, "offset", effect_key, kind, payload, version, recorded_at from tidemark_side_effects
        where context = $1 and projection = $2 order by partition, "offset", effect_key`,
      [context, projection],
    );
    return result.rows.map((r) => ({
      context,
      projection,
      partition: r.partition,
      offset: Number(r.offset),
      key: r.effect_key,
      kind: r.kind,
      payload: r.payload,
      version: r.version,
      recordedAt: r.recorded_at,
    }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export function createPostgresSideEffectOutbox(
  options: PostgresSideEffectOutboxOptions,
): PostgresSideEffectOutbox {
  return new PostgresSideEffectOutbox(options);
}
