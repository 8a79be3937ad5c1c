/**
 * The few node-postgres calls the stack needs, typed locally: the repo has no @types/pg yet, and an ambient
 * `declare module 'pg'` would clash with it once someone adds it.
 */
export interface PgQueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

export interface PgClient {
  connect(): Promise<void>;
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PgQueryResult<R>>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface PgClientConfig {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  connectionString?: string;
  connectionTimeoutMillis?: number;
}

/** A pg error carries the SQLSTATE in `code` (e.g. 28P01 = invalid password). */
export interface PgError extends Error {
  code?: string;
}

type PgModule = { Client: new (config: PgClientConfig) => PgClient };

let pgModule: PgModule | undefined;

export function createPgClient(config: PgClientConfig): PgClient {
  pgModule ??= require('pg') as PgModule;
  const client = new pgModule.Client(config);
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  return client;
}

/** Connects, runs `fn`, always closes. */
export async function withPgClient<T>(
  config: PgClientConfig,
  fn: (client: PgClient) => Promise<T>,
): Promise<T> {
  const client = createPgClient(config);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
