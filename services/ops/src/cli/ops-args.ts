/**
 * What the one-shot operator commands (projections, replay, diff, cutover, rollback, retire, audit) share: where
 * the platform is (flags, a running `tidemark up`'s endpoints.json, or the same TIDEMARK_* variables as the admin
 * API, read from its settings table), who acts and why, and how errors and exit codes look.
 *
 * Precedence: a flag, then --endpoints, then the environment variable, then the default.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '@tidemark/observability';
import { createPostgresProjectionControl } from '@tidemark/projection-runtime';
import type { Logger } from 'pino';
import { ProjectionCatalog } from '../catalog';
import { deploymentOf, selectedContexts } from '../config/deployment-settings';
import type { EnvVar } from '../config/env';
import { SERVICE_ENV } from '../config/env';
import { DeploymentOps } from '../projection-ops';
import type { StoreEndpoints } from '../sinks';
import { UsageError } from './usage-error';

/** The flags every operator command takes (parseArgs options). */
export const COMMON_OPTIONS = {
  endpoints: { type: 'string' },
  config: { type: 'string' },
  brokers: { type: 'string' },
  postgres: { type: 'string' },
  redis: { type: 'string' },
  memcached: { type: 'string' },
  elasticsearch: { type: 'string' },
  partitions: { type: 'string' },
  context: { type: 'string' },
  catalog: { type: 'string' },
  reason: { type: 'string' },
  actor: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The "Connection options" block of every operator command's --help. */
export const COMMON_HELP = `Where the platform is (a flag, else --endpoints, else the environment variable):
  --endpoints <file>       A running \`tidemark up\`'s endpoints.json (or its data dir): every URL below from it,
                           e.g. --endpoints .tidemark/endpoints.json
  --config <file>          The deployment module (env TIDEMARK_CONFIG; default: the one endpoints.json names, else
                           ./tidemark.config.js)
  --brokers <list>         Kafka bootstrap servers, host:port comma-separated (env TIDEMARK_BROKERS)
  --postgres <url>         PostgreSQL: control table, audit log, Postgres views (env TIDEMARK_POSTGRES_URL)
  --redis <url>            Redis, for Redis views (env TIDEMARK_REDIS_URL)
  --memcached <list>       memcached servers, for memcached views (env TIDEMARK_MEMCACHED_SERVERS)
  --elasticsearch <url>    Elasticsearch, for search views (env TIDEMARK_ELASTICSEARCH_URL)
  --context <name>         The context (env TIDEMARK_CONTEXT; needed only when the deployment hosts several)
  --partitions <n>         P of the context (env TIDEMARK_PARTITIONS; default: read from the events topic)
  --catalog <file>         A catalog module adding projection versions, e.g. the fixed one (env TIDEMARK_CATALOG)
  --actor <name>           Who acts, for the audit log (default cli:<os user>)
  --reason <text>          Why, for the audit log
  --log-level <level>      Logs on stderr (env TIDEMARK_LOG_LEVEL, default warn)
  -h, --help               Show this text
`;

export type CommonValues = { [K in keyof typeof COMMON_OPTIONS]?: K extends 'help' ? boolean : string };

type OptionSpec = { type: 'string' | 'boolean'; short?: string };
export type ParsedValues = CommonValues & Record<string, string | boolean | undefined>;

/**
 * Parses a command's arguments (the common options plus its own): a mistake is a UsageError carrying the help;
 * `--help` prints it and yields null.
 */
export function parseCommand(
  argv: string[],
  options: Record<string, OptionSpec>,
  help: string,
): { values: ParsedValues; positionals: string[] } | null {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { ...COMMON_OPTIONS, ...options },
    }) as typeof parsed;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
  if (parsed.values.help === true) {
    process.stdout.write(help);
    return null;
  }
  return { values: parsed.values as ParsedValues, positionals: parsed.positionals };
}

/** A string option's value (undefined when not given). */
export function stringOption(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export interface OpsConnection {
  brokers: string[];
  stores: StoreEndpoints;
  /** The deployment module (undefined: ./tidemark.config.js). */
  config?: string;
  context?: string;
  /** Given explicitly; otherwise read from the broker. */
  partitions?: number;
  catalog?: string;
  logLevel: string;
}

export interface CommonArgs {
  connection: OpsConnection;
  actor: string;
  reason?: string;
}

const HOST_PORT = /^[A-Za-z0-9.\-_]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function spec(flag: string): EnvVar {
  const found = [...SERVICE_ENV.admin, ...SERVICE_ENV.processor].find((s: EnvVar) => s.flag === flag);
  if (!found) throw new Error(`no admin setting --${flag}`);
  return found;
}

/** Validates one raw value the way the settings table does (the same kinds, the same variables). */
export function parseSetting(setting: EnvVar, raw: string): string | string[] | number {
  const fail = (message: string): never => {
    throw new UsageError(`${setting.name} (--${setting.flag}) ${message}`);
  };
  switch (setting.kind) {
    case 'hostPorts': {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0 || items.some((item) => !HOST_PORT.test(item)))
        fail(`must be host:port, comma-separated (got '${raw}')`);
      return items;
    }
    case 'url': {
      let url: URL | undefined;
      try {
        url = new URL(raw);
      } catch {
        fail('must be a URL');
      }
      if (setting.protocols && url && !setting.protocols.includes(url.protocol))
        fail(`must be a ${setting.protocols.map((p) => `${p}//`).join(' or ')} URL`);
      return raw;
    }
    case 'int': {
      const value = Number(raw);
      const min = setting.min ?? 0;
      if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min)
        fail(`must be an integer >= ${min} (got '${raw}')`);
      return value;
    }
    case 'context':
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(raw)) fail(`must be a context name (got '${raw}')`);
      return raw;
    case 'file': {
      let isFile = false;
      try {
        isFile = statSync(raw).isFile();
      } catch {
        // reported below
      }
      if (!isFile) fail(`must name an existing file (got '${raw}')`);
      return raw;
    }
    case 'logLevel':
      if (!LOG_LEVELS.includes(raw)) fail(`must be one of ${LOG_LEVELS.join(', ')} (got '${raw}')`);
      return raw;
    default:
      return raw;
  }
}

/** Reads a `tidemark up` endpoints.json (a file, or a data dir holding one) into flag values. */
export function readEndpoints(location: string): Partial<Record<string, string>> {
  let file = path.resolve(location);
  try {
    if (statSync(file).isDirectory()) file = path.join(file, 'endpoints.json');
  } catch {
    throw new UsageError(`--endpoints: ${location} does not exist (is \`tidemark up\` running?)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--endpoints: cannot read ${file}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new UsageError(`--endpoints: ${file} is not an object`);
  const endpoints = parsed as Record<string, unknown>;
  const text = (key: string) => (typeof endpoints[key] === 'string' ? (endpoints[key] as string) : undefined);
  return {
    brokers: text('broker'),
    postgres: text('postgres'),
    redis: text('redis'),
    memcached: text('memcached'),
    elasticsearch: text('search'),
    config: text('config'),
    catalog: text('catalog'),
  };
}

/** Resolves the common options (flags, --endpoints, environment). Pure but for reading files. */
export function resolveCommon(values: CommonValues, env: NodeJS.ProcessEnv = process.env): CommonArgs {
  const fromFile = values.endpoints ? readEndpoints(values.endpoints) : {};
  const raw = (flag: string): string | undefined => {
    const flagValue = (values as Record<string, unknown>)[flag];
    if (typeof flagValue === 'string') return flagValue;
    const fileValue = fromFile[flag];
    if (fileValue) return fileValue;
    const envValue = env[spec(flag).name];
    return envValue !== undefined && envValue !== '' ? envValue : undefined;
  };
  const value = (flag: string) => {
    const text = raw(flag);
    return text === undefined ? undefined : parseSetting(spec(flag), text);
  };
  const brokers = value('brokers') as string[] | undefined;
  const postgres = value('postgres') as string | undefined;
  const missing = [
    ...(brokers ? [] : ['--brokers (or TIDEMARK_BROKERS)']),
    ...(postgres ? [] : ['--postgres (or TIDEMARK_POSTGRES_URL)']),
  ];
  if (missing.length > 0) {
    throw new UsageError(
      `${missing.join(' and ')} required: give them, or --endpoints <data-dir>/endpoints.json of a running \`tidemark up\``,
    );
  }
  const memcached = value('memcached') as string[] | undefined;
  const logLevel = values['log-level'] ?? env.TIDEMARK_LOG_LEVEL ?? 'warn';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got '${logLevel}')`);
  }
  const actor = values.actor ?? `cli:${osUser()}`;
  if (actor.trim() === '') throw new UsageError('--actor must not be empty');
  return {
    connection: {
      brokers: brokers ?? [],
      stores: {
        postgres: postgres ?? '',
        redis: value('redis') as string | undefined,
        memcached: memcached?.join(','),
        elasticsearch: value('elasticsearch') as string | undefined,
      },
      config: value('config') as string | undefined,
      context: value('context') as string | undefined,
      partitions: value('partitions') as number | undefined,
      catalog: value('catalog') as string | undefined,
      logLevel,
    },
    actor,
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
  };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** The operator actions on the connection, with the control table and catalog they need; `close` ends them all. */
export async function openOps(
  connection: OpsConnection,
  logger: Logger,
): Promise<{ ops: DeploymentOps; close(): Promise<void> }> {
  const deployment = await deploymentOf({ config: connection.config });
  if (connection.context !== undefined) selectedContexts(deployment, [connection.context]);
  const catalog = await ProjectionCatalog.load(deployment, connection.catalog);
  const control = createPostgresProjectionControl({ connectionString: connection.stores.postgres, logger });
  const ops = new DeploymentOps({
    brokers: connection.brokers,
    stores: connection.stores,
    partitions: connection.partitions,
    catalog,
    control,
    logger,
    deployment,
  });
  return {
    ops,
    async close() {
      await ops.close();
      await control.close().catch(() => undefined);
    },
  };
}

export function commandLogger(command: string, level: string): Logger {
  return createLogger(`tidemark.${command}`, { level });
}

/** An error that ends a command with a given exit code (main.ts honours `exitCode`). */
export function withExitCode<E>(error: E, exitCode: number): E {
  if (error instanceof Error) (error as Error & { exitCode?: number }).exitCode = exitCode;
  return error;
}

/**
 * Runs a one-shot command body with an opened ProjectionOps and closes it; the process then exits even if a
 * client left a handle behind.
 */
export async function withOps(
  command: string,
  common: CommonArgs,
  run: (ops: DeploymentOps, logger: Logger) => Promise<void>,
): Promise<void> {
  const logger = commandLogger(command, common.connection.logLevel);
  const opened = await openOps(common.connection, logger);
  try {
    await run(opened.ops, logger);
  } finally {
    await opened.close();
    setTimeout(() => process.exit(), 2_000).unref();
  }
}

/** A positive integer argument, or a UsageError naming it. */
export function positiveInt(name: string, raw: string | undefined, help: string): number {
  const value = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${name} must be a whole number >= 1 (got '${raw ?? ''}')\n\n${help}`);
  }
  return value;
}

/**
 * A duration: `0`, `30s`, `10m`, `2h`, `1h30m`, `500ms`, `1d`; a bare number is seconds. Returns milliseconds.
 */
export function parseDuration(raw: string): number {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let at = 0;
  if (text === '') throw new Error(`'${raw}' is not a duration`);
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (!match) throw new Error(`'${raw}' is not a duration (e.g. 0, 30s, 10m, 1h30m)`);
    total += Number(match[1]) * (units[match[2] as string] ?? 0);
    at = part.lastIndex;
  }
  return Math.round(total);
}

/** --wait <duration> of cutover and rollback, in ms (undefined: the default). */
export function waitMsOf(values: ParsedValues): number | undefined {
  const raw = stringOption(values, 'wait');
  if (raw === undefined) return undefined;
  try {
    return parseDuration(raw);
  } catch (error) {
    throw new UsageError(`--wait: ${error instanceof Error ? error.message : String(error)}`);
  }
}
