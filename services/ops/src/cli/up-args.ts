import path from 'node:path';
import { parseArgs } from 'node:util';
import { type BrokerMode, COMPONENTS, type Component } from '@tidemark/stack';

/**
 * Fixed default ports of `tidemark up`, so endpoints stay the same across restarts. They sit away from the
 * services' usual ports (9092, 5432, 6379, 11211) so a system Kafka/PostgreSQL/Redis/memcached (Debian starts
 * one on install) does not collide.
 */
export const UP_DEFAULT_PORTS: Record<Component, number> = {
  broker: 19092,
  postgres: 15432,
  redis: 16379,
  memcached: 21211,
  search: 19200,
};
export const UP_DEFAULT_METRICS_PORT = 19308;
export const UP_DEFAULT_GATEWAY_PORT = 18080;
export const UP_DEFAULT_QUERY_PORT = 18081;
export const UP_DEFAULT_ADMIN_PORT = 18082;
export const UP_DEFAULT_PARTITIONS = 8;
export const UP_DEFAULT_DATA_DIR = '.tidemark';

export interface UpArgs {
  help: boolean;
  /** Absolute. */
  dataDir: string;
  components: Component[];
  ports: Record<Component, number>;
  /** null: no metrics endpoint. */
  metricsPort: number | null;
  brokerMode: BrokerMode;
  /** Where the projectors run: in this process, one `tidemark projector` child process, or nowhere (off). */
  projectorMode: 'in-process' | 'child' | 'off';
  /** Where the command processors run: in this process, or one `tidemark processor` child per context. */
  processorMode: 'in-process' | 'child';
  gatewayPort: number;
  queryPort: number;
  adminPort: number;
  /** Partitions of every context's topics. */
  partitions: number;
  /** Absolute path of a projection catalog module (--catalog), when given. */
  catalog?: string;
  /** Absolute path of the deployment module (--config / TIDEMARK_CONFIG); undefined: ./tidemark.config.js. */
  config?: string;
}

export const UP_HELP = `tidemark up: start the local Tidemark platform in the foreground

Starts the Kafka-protocol broker, PostgreSQL, Redis, memcached and the embedded Elasticsearch-API search
server on 127.0.0.1 (installing redis-server and memcached with apt-get first when missing and running as
root), then, for every context of the deployment module, a command processor and a projector per projection
(Postgres, Redis, memcached and search views), and the command gateway, the query API and the admin API; writes <data-dir>/endpoints.json (with a development
API key), prints what runs where and an example command and read, and stays in the foreground. Ctrl-C (SIGINT) or SIGTERM stops everything cleanly and exits 0;
endpoints.json is removed again. Data persists in the data dir across restarts.

Usage: tidemark up [options]

Options:
  --data-dir <dir>         State directory (default ${UP_DEFAULT_DATA_DIR}/ under the current directory, i.e. the
                           repo root for \`npm start\`). Layout: postgres/ (PGDATA), redis/ (append-only file),
                           broker/ (topic logs), endpoints.json
  --broker-port <n>        Kafka listener port (default ${UP_DEFAULT_PORTS.broker})
  --postgres-port <n>      PostgreSQL port (default ${UP_DEFAULT_PORTS.postgres}); user, password and database: tidemark
  --redis-port <n>         Redis port (default ${UP_DEFAULT_PORTS.redis})
  --memcached-port <n>     memcached port (default ${UP_DEFAULT_PORTS.memcached})
  --search-port <n>        Embedded Elasticsearch-API server port (default ${UP_DEFAULT_PORTS.search})
  --metrics-port <n>       Broker Prometheus /metrics port (default ${UP_DEFAULT_METRICS_PORT}; -1 disables it); the
                           projectors' /metrics is on the next port, then one per context's command processor.
                           The gateway and query API serve /metrics on their own ports
  --gateway-port <n>       Command gateway HTTP port (default ${UP_DEFAULT_GATEWAY_PORT})
  --query-port <n>         Query API HTTP port (default ${UP_DEFAULT_QUERY_PORT}; needs the postgres component)
  --admin-port <n>         Admin API HTTP port (default ${UP_DEFAULT_ADMIN_PORT}; replay, diff, cutover, ... over HTTP)
  --partitions <n>         Partitions of each context's topics (default ${UP_DEFAULT_PARTITIONS}; fixed once created)
  --components <list>      Comma-separated subset of: ${COMPONENTS.join(', ')} (default: all)
  --broker-mode <mode>     in-process (default) or child (a separate \`tidemark broker\` process)
  --projector-mode <mode>  in-process (default), child (one \`tidemark projector\` process for every
                           projection, as docker-compose runs them) or off (no projectors: the write path alone)
  --processor-mode <mode>  in-process (default) or child (one \`tidemark processor\` process per context, as
                           docker-compose runs it, so the processor and the gateway do not share an event loop)
  --config <file>          The deployment module (.js): the contexts, projections and queries to host (default
                           TIDEMARK_CONFIG, else ./tidemark.config.js, this repository's listings example for
                           \`npm start\`)
  --catalog <file>         A projection catalog module (.js) adding projection versions to the deployment's
                           (e.g. a fixed version for \`tidemark replay\`); default TIDEMARK_CATALOG
  -h, --help               Show this text

Any port may be 0 to pick a free one (the endpoints then change on every start).
The defaults are fixed so that endpoints stay stable across restarts; a port already in use is an error.
Logs are JSON lines on stderr; set TIDEMARK_LOG_LEVEL (debug, info, warn, error; default info).
`;

export class UpUsageError extends Error {}

function port(name: string, value: string | undefined, fallback: number, allowDisable = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const min = allowDisable ? -1 : 0;
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > 65535) {
    throw new UpUsageError(`--${name} must be an integer port between ${min} and 65535 (got '${value}')`);
  }
  return n;
}

function partitions(value: string | undefined): number {
  if (value === undefined) return UP_DEFAULT_PARTITIONS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new UpUsageError(`--partitions must be an integer between 1 and 1000 (got '${value}')`);
  }
  return n;
}

/** Pure: parses `tidemark up` arguments; relative --data-dir resolves against `cwd`. Throws UpUsageError. */
export function parseUpArgs(
  argv: string[],
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): UpArgs {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UpUsageError((error as Error).message);
  }
  let components: Component[] = [...COMPONENTS];
  if (values.components !== undefined) {
    const listed = values.components
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const unknown = listed.filter((s) => !(COMPONENTS as readonly string[]).includes(s));
    if (unknown.length > 0 || listed.length === 0) {
      throw new UpUsageError(
        `--components takes a comma-separated list of ${COMPONENTS.join(', ')}${unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : ''}`,
      );
    }
    components = [...new Set(listed)] as Component[];
  }
  const brokerMode = values['broker-mode'] ?? 'in-process';
  if (brokerMode !== 'in-process' && brokerMode !== 'child') {
    throw new UpUsageError(`--broker-mode must be in-process or child (got '${brokerMode}')`);
  }
  const projectorMode = values['projector-mode'] ?? 'in-process';
  if (projectorMode !== 'in-process' && projectorMode !== 'child' && projectorMode !== 'off') {
    throw new UpUsageError(`--projector-mode must be in-process, child or off (got '${projectorMode}')`);
  }
  const processorMode = values['processor-mode'] ?? 'in-process';
  if (processorMode !== 'in-process' && processorMode !== 'child') {
    throw new UpUsageError(`--processor-mode must be in-process or child (got '${processorMode}')`);
  }
  const metricsPort = port('metrics-port', values['metrics-port'], UP_DEFAULT_METRICS_PORT, true);
  const catalog = values.catalog ?? (env.TIDEMARK_CATALOG || undefined);
  const config = values.config ?? (env.TIDEMARK_CONFIG || undefined);
  return {
    help: values.help === true,
    dataDir: path.resolve(cwd, values['data-dir'] ?? UP_DEFAULT_DATA_DIR),
    components,
    ports: {
      broker: port('broker-port', values['broker-port'], UP_DEFAULT_PORTS.broker),
      postgres: port('postgres-port', values['postgres-port'], UP_DEFAULT_PORTS.postgres),
      redis: port('redis-port', values['redis-port'], UP_DEFAULT_PORTS.redis),
      memcached: port('memcached-port', values['memcached-port'], UP_DEFAULT_PORTS.memcached),
      search: port('search-port', values['search-port'], UP_DEFAULT_PORTS.search),
    },
    metricsPort: metricsPort === -1 ? null : metricsPort,
    brokerMode,
    projectorMode,
    processorMode,
    gatewayPort: port('gateway-port', values['gateway-port'], UP_DEFAULT_GATEWAY_PORT),
    queryPort: port('query-port', values['query-port'], UP_DEFAULT_QUERY_PORT),
    adminPort: port('admin-port', values['admin-port'], UP_DEFAULT_ADMIN_PORT),
    partitions: partitions(values.partitions),
    ...(catalog ? { catalog: path.resolve(cwd, catalog) } : {}),
    ...(config ? { config: path.resolve(cwd, config) } : {}),
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'data-dir': { type: 'string' },
      'processor-mode': { type: 'string' },
      'broker-port': { type: 'string' },
      'gateway-port': { type: 'string' },
      'query-port': { type: 'string' },
      'admin-port': { type: 'string' },
      partitions: { type: 'string' },
      'postgres-port': { type: 'string' },
      'redis-port': { type: 'string' },
      'memcached-port': { type: 'string' },
      'search-port': { type: 'string' },
      'metrics-port': { type: 'string' },
      components: { type: 'string' },
      'broker-mode': { type: 'string' },
      'projector-mode': { type: 'string' },
      catalog: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export interface UpTableRow {
  component: string;
  endpoint: string;
  pid: string;
  version: string;
  note: string;
}

/** Pure: renders rows as an aligned text table with a header. */
export function formatTable(rows: UpTableRow[]): string {
  const header: UpTableRow = {
    component: 'COMPONENT',
    endpoint: 'ENDPOINT',
    pid: 'PID',
    version: 'VERSION',
    note: 'NOTE',
  };
  const all = [header, ...rows];
  const keys: (keyof UpTableRow)[] = ['component', 'endpoint', 'pid', 'version', 'note'];
  const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  return all
    .map((r) =>
      keys
        .map((k, i) => r[k].padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
