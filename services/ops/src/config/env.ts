/**
 * Every setting of the long-running service commands (gateway, processor, projector, query), in one table: the
 * environment variable, the equivalent command-line flag, whether it is required, its default and how it is
 * validated. The commands, their --help, docker-compose.yml and the README are all checked against this table
 * (test/compose), so a setting exists in all of them or in none.
 *
 * Precedence: a flag wins over its variable, the variable over the default. An empty variable counts as unset
 * (compose's `${VAR:-}` yields one).
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

export type Service = 'gateway' | 'processor' | 'projector' | 'query' | 'admin';
export const SERVICES: readonly Service[] = ['gateway', 'processor', 'projector', 'query', 'admin'];

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** An API key of the gateway or the query API (the same shape in both). */
export interface ApiKeyConfig {
  id: string;
  secret: string;
  scopes: string[];
}

/** How a raw string becomes a value, and the value's type. */
interface KindValue {
  /** host:port,host:port,... */
  hostPorts: string[];
  /** Comma-separated context names (checked against the deployment module once it is loaded). */
  contexts: string[];
  context: string;
  /** Comma-separated projection names (checked against the deployment module once it is loaded). */
  projections: string[];
  int: number;
  url: string;
  /** A non-empty word: letters, digits, '.', '_', ':', '-'. */
  word: string;
  logLevel: LogLevel;
  /** A JSON array of {id, secret, scopes}. */
  apiKeys: ApiKeyConfig[];
  /** A file holding that JSON array: the value is the keys read from it. */
  apiKeysFile: ApiKeyConfig[];
  /** The path of an existing file (read by the command when it starts, e.g. a catalog module). */
  file: string;
}
export type Kind = keyof KindValue;

export interface EnvVar {
  /** The environment variable. */
  name: string;
  /** The equivalent flag, without the leading "--". */
  flag: string;
  /** Placeholder shown in --help. */
  arg: string;
  kind: Kind;
  required: boolean;
  /** Applied when neither the flag nor the variable is set (as a raw string, parsed like one). */
  default?: string;
  /** Smallest accepted value of an int. */
  min?: number;
  /** Largest accepted value of an int. */
  max?: number;
  /** Accepted URL schemes of a url. */
  protocols?: readonly string[];
  /** At least one variable of a group must be set, and not two (e.g. the API keys inline or from a file). */
  oneOf?: string;
  /** Its value is a secret: redacted by --check-config. */
  secret?: boolean;
  description: string;
  /** A value as docker-compose.yml would set it. */
  example: string;
}

// The variables shared by several commands; a command that needs another default spreads and overrides.
const BROKERS = {
  name: 'TIDEMARK_BROKERS',
  flag: 'brokers',
  arg: '<list>',
  kind: 'hostPorts',
  required: true,
  description: 'Kafka bootstrap servers, host:port comma-separated',
  example: 'kafka-1:9092,kafka-2:9092,kafka-3:9092',
} as const;
const LOG_LEVEL = {
  name: 'TIDEMARK_LOG_LEVEL',
  flag: 'log-level',
  arg: '<level>',
  kind: 'logLevel',
  required: false,
  default: 'info',
  description: 'Log level of the JSON lines on stderr: trace, debug, info, warn, error, fatal or silent',
  example: 'info',
} as const;
const CONFIG = {
  name: 'TIDEMARK_CONFIG',
  flag: 'config',
  arg: '<file>',
  kind: 'file',
  required: false,
  description:
    'The deployment module (.js) naming the contexts, projections and queries this installation hosts (default ./tidemark.config.js)',
  example: '/app/tidemark.config.js',
} as const;
const CONTEXT = {
  name: 'TIDEMARK_CONTEXT',
  flag: 'context',
  arg: '<name>',
  kind: 'context',
  required: false,
  description: 'The context this instance serves (required when the deployment module hosts more than one)',
  example: '<context>',
} as const;
const CONTEXTS = {
  name: 'TIDEMARK_CONTEXTS',
  flag: 'contexts',
  arg: '<list>',
  kind: 'contexts',
  required: false,
  description: "Only these of the deployment module's contexts, comma-separated (default: every one)",
  example: '<context>,<context>',
} as const;
const PARTITIONS = {
  name: 'TIDEMARK_PARTITIONS',
  flag: 'partitions',
  arg: '<n>',
  kind: 'int',
  min: 1,
  required: false,
  default: '8',
  description: "Partitions of the context's topics (P; every command of a deployment must agree)",
  example: '8',
} as const;
const POSTGRES_URL = {
  name: 'TIDEMARK_POSTGRES_URL',
  flag: 'postgres',
  arg: '<url>',
  kind: 'url',
  protocols: ['postgres:', 'postgresql:'],
  required: true,
  secret: true,
  description: 'PostgreSQL URL: detail views, the projection control table and the watermark bus',
  example: 'postgres://tidemark:tidemark@postgres:5432/tidemark',
} as const;
const REDIS_URL = {
  name: 'TIDEMARK_REDIS_URL',
  flag: 'redis',
  arg: '<url>',
  kind: 'url',
  protocols: ['redis:', 'rediss:'],
  required: false,
  secret: true,
  description: 'Redis URL, for the Redis views',
  example: 'redis://redis:6379',
} as const;
const MEMCACHED_SERVERS = {
  name: 'TIDEMARK_MEMCACHED_SERVERS',
  flag: 'memcached',
  arg: '<list>',
  kind: 'hostPorts',
  required: false,
  description: 'memcached servers, host:port comma-separated, for the memcached views',
  example: 'memcached:11211',
} as const;
const ELASTICSEARCH_URL = {
  name: 'TIDEMARK_ELASTICSEARCH_URL',
  flag: 'elasticsearch',
  arg: '<url>',
  kind: 'url',
  protocols: ['http:', 'https:'],
  required: false,
  secret: true,
  description: 'Elasticsearch URL, for the search views',
  example: 'http://elasticsearch:9200',
} as const;
const METRICS_PORT = {
  name: 'TIDEMARK_METRICS_PORT',
  flag: 'metrics-port',
  arg: '<n>',
  kind: 'int',
  min: -1,
  max: 65535,
  required: false,
  description: 'Port of GET /metrics (Prometheus) and GET /healthz; 0 picks a free one, -1 disables',
  example: '9464',
} as const;
const METRICS_HOST = {
  name: 'TIDEMARK_METRICS_HOST',
  flag: 'metrics-host',
  arg: '<host>',
  kind: 'word',
  required: false,
  default: '127.0.0.1',
  description: 'Address the metrics endpoint listens on (0.0.0.0 in a container)',
  example: '0.0.0.0',
} as const;
const SESSION_TIMEOUT_MS = {
  name: 'TIDEMARK_SESSION_TIMEOUT_MS',
  flag: 'session-timeout-ms',
  arg: '<n>',
  kind: 'int',
  min: 100,
  required: false,
  description: 'Consumer group session timeout in ms (default 10000)',
  example: '10000',
} as const;
const HEARTBEAT_INTERVAL_MS = {
  name: 'TIDEMARK_HEARTBEAT_INTERVAL_MS',
  flag: 'heartbeat-interval-ms',
  arg: '<n>',
  kind: 'int',
  min: 10,
  required: false,
  description: 'Consumer group heartbeat interval in ms (default 1000)',
  example: '1000',
} as const;
const HTTP_HOST = {
  name: 'TIDEMARK_HTTP_HOST',
  flag: 'host',
  arg: '<host>',
  kind: 'word',
  required: false,
  default: '127.0.0.1',
  description: 'Address the HTTP API listens on (0.0.0.0 in a container)',
  example: '0.0.0.0',
} as const;
const HTTP_PORT = {
  name: 'TIDEMARK_HTTP_PORT',
  flag: 'port',
  arg: '<n>',
  kind: 'int',
  min: 0,
  max: 65535,
  required: false,
  description: 'Port of the HTTP API (also serves /metrics and /healthz); 0 picks a free one',
  example: '8080',
} as const;
const API_KEYS = {
  name: 'TIDEMARK_API_KEYS',
  flag: 'api-keys',
  arg: '<json>',
  kind: 'apiKeys',
  required: false,
  oneOf: 'api-keys',
  secret: true,
  description: 'API keys as JSON: [{"id","secret","scopes":[...]}] (this or --api-keys-file is required)',
  example: '[{"id":"ops","secret":"change-me","scopes":["*"]}]',
} as const;
const API_KEYS_FILE = {
  name: 'TIDEMARK_API_KEYS_FILE',
  flag: 'api-keys-file',
  arg: '<path>',
  kind: 'apiKeysFile',
  required: false,
  oneOf: 'api-keys',
  description: 'A file holding that JSON array, e.g. a compose secret (this or --api-keys is required)',
  example: '/run/secrets/tidemark_api_keys',
} as const;

const CATALOG = {
  name: 'TIDEMARK_CATALOG',
  flag: 'catalog',
  arg: '<file>',
  kind: 'file',
  required: false,
  description:
    'A projection catalog module (.js) that adds projection versions to the built-in ones, e.g. a fixed version to replay',
  example: '/app/catalog.js',
} as const;

/** Every variable each command reads; nothing else configures them. */
export const SERVICE_ENV = {
  gateway: [
    BROKERS,
    CONFIG,
    {
      ...CONTEXTS,
      description: 'Contexts whose commands the gateway accepts, comma-separated (default: every one)',
    },
    HTTP_HOST,
    { ...HTTP_PORT, default: '8080' },
    API_KEYS,
    API_KEYS_FILE,
    {
      name: 'TIDEMARK_WAIT_TIMEOUT_MS',
      flag: 'wait-timeout-ms',
      arg: '<n>',
      kind: 'int',
      min: 1,
      required: false,
      description:
        "How long a POST waits for the command's outcome before 503 COMMAND_PENDING (default 5000)",
      example: '5000',
    },
    {
      name: 'TIDEMARK_MAX_IN_FLIGHT',
      flag: 'max-in-flight',
      arg: '<n>',
      kind: 'int',
      min: 1,
      required: false,
      description: 'Commands waiting at once before 429 TOO_MANY_IN_FLIGHT (default 1024)',
      example: '1024',
    },
    {
      name: 'TIDEMARK_MAX_BODY_BYTES',
      flag: 'max-body-bytes',
      arg: '<n>',
      kind: 'int',
      min: 1,
      required: false,
      description: 'Largest accepted request body in bytes (default 1048576)',
      example: '1048576',
    },
    LOG_LEVEL,
  ],
  processor: [
    BROKERS,
    CONFIG,
    CONTEXT,
    PARTITIONS,
    { ...METRICS_PORT, default: '9310' },
    METRICS_HOST,
    SESSION_TIMEOUT_MS,
    HEARTBEAT_INTERVAL_MS,
    {
      name: 'TIDEMARK_SNAPSHOT_EVERY',
      flag: 'snapshot-every',
      arg: '<n>',
      kind: 'int',
      min: 1,
      required: false,
      description: 'Events between state snapshots per partition (default 5000)',
      example: '5000',
    },
    {
      name: 'TIDEMARK_DEDUPE_WINDOW',
      flag: 'dedupe-window',
      arg: '<n>',
      kind: 'int',
      min: 1,
      required: false,
      description: 'Command outcomes remembered per partition for retries (default 10000)',
      example: '10000',
    },
    {
      name: 'TIDEMARK_MAX_BATCH',
      flag: 'max-batch',
      arg: '<n>',
      kind: 'int',
      min: 1,
      required: false,
      description: 'Commands per Kafka transaction at most (default 500)',
      example: '500',
    },
    {
      name: 'TIDEMARK_OFFSET_COMMIT_INTERVAL_MS',
      flag: 'offset-commit-interval-ms',
      arg: '<ms>',
      kind: 'int',
      min: 0,
      required: false,
      description:
        'How often command offsets are committed, in a batch transaction or alone when idle (default 500; 0: every batch). Commands re-read after a takeover are duplicates by command id',
      example: '500',
    },
    {
      name: 'TIDEMARK_INSTANCE_ID',
      flag: 'instance-id',
      arg: '<id>',
      kind: 'word',
      required: false,
      description: 'Name of this instance in logs and event headers (default random)',
      example: 'processor-1',
    },
    LOG_LEVEL,
  ],
  projector: [
    BROKERS,
    POSTGRES_URL,
    REDIS_URL,
    MEMCACHED_SERVERS,
    ELASTICSEARCH_URL,
    CONFIG,
    CONTEXTS,
    {
      name: 'TIDEMARK_PROJECTIONS',
      flag: 'projections',
      arg: '<list>',
      kind: 'projections',
      required: false,
      description: 'Only these projections, comma-separated (default every projection of the contexts)',
      example: '<projection>,<projection>',
    },
    PARTITIONS,
    CATALOG,
    { ...METRICS_PORT, default: '9320' },
    METRICS_HOST,
    {
      ...SESSION_TIMEOUT_MS,
      description:
        'Consumer group session timeout in ms (default 30000: a projector catching up on several views can be busy for seconds)',
      example: '30000',
    },
    HEARTBEAT_INTERVAL_MS,
    LOG_LEVEL,
  ],
  query: [
    BROKERS,
    POSTGRES_URL,
    REDIS_URL,
    MEMCACHED_SERVERS,
    ELASTICSEARCH_URL,
    CONFIG,
    {
      ...CONTEXTS,
      description: 'Contexts whose queries the API serves, comma-separated (default: every one)',
    },
    PARTITIONS,
    HTTP_HOST,
    { ...HTTP_PORT, default: '8081' },
    API_KEYS,
    API_KEYS_FILE,
    {
      name: 'TIDEMARK_WAIT_TIMEOUT_MS',
      flag: 'wait-timeout-ms',
      arg: '<n>',
      kind: 'int',
      min: 0,
      max: 60000,
      required: false,
      description:
        'Longest a read waits for its view to cover the token, in ms (default 2000, at most 60000)',
      example: '2000',
    },
    LOG_LEVEL,
  ],
  // The admin API (replay, diff, cutover, rollback, retire, audit over HTTP); the one-shot CLI commands read the
  // same variables (cli/ops-args.ts).
  admin: [
    BROKERS,
    POSTGRES_URL,
    REDIS_URL,
    MEMCACHED_SERVERS,
    ELASTICSEARCH_URL,
    CONFIG,
    PARTITIONS,
    CATALOG,
    HTTP_HOST,
    { ...HTTP_PORT, default: '8082' },
    API_KEYS,
    API_KEYS_FILE,
    LOG_LEVEL,
  ],
} as const satisfies Record<Service, readonly EnvVar[]>;

type Specs<S extends Service> = (typeof SERVICE_ENV)[S][number];
/** A setting is always there when it is required or has a default; otherwise it may be undefined. */
type ValueOf<V extends EnvVar> = V extends { required: true } | { default: string }
  ? KindValue[V['kind']]
  : KindValue[V['kind']] | undefined;
/** The resolved settings of a command, keyed by flag name. */
export type Settings<S extends Service> = { [V in Specs<S> as V['flag']]: ValueOf<V> };

/** Raw values from the command line, keyed by flag name (what node:util parseArgs returns). */
export type FlagValues = Record<string, string | boolean | undefined>;

/** One or more settings are missing or invalid; the message has a line per problem, naming the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const apiKeysSchema = z
  .array(
    z.object({
      id: z.string().min(1),
      secret: z.string().min(12, 'a secret needs at least 12 characters'),
      scopes: z.array(z.string().min(1)).min(1),
    }),
  )
  .min(1, 'at least one key');

function parseApiKeys(text: string): ApiKeyConfig[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`is not JSON (${(error as Error).message})`);
  }
  const parsed = apiKeysSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `must be a JSON array of {"id","secret","scopes"}: ${issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'invalid'}`,
    );
  }
  const ids = new Set<string>();
  for (const key of parsed.data) {
    if (ids.has(key.id)) throw new Error(`names key id '${key.id}' twice`);
    ids.add(key.id);
  }
  return parsed.data;
}

const HOST_PORT = /^[A-Za-z0-9.\-_]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;
const WORD = /^[A-Za-z0-9._:-]+$/;

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Parses one raw value; throws an Error whose message completes "<VAR> ...". */
function parseValue(spec: EnvVar, raw: string): KindValue[Kind] {
  switch (spec.kind) {
    case 'hostPorts': {
      const items = list(raw);
      const bad = items.filter((item) => !HOST_PORT.test(item));
      if (items.length === 0 || bad.length > 0)
        throw new Error(`must be host:port, comma-separated (got '${raw}')`);
      return items;
    }
    case 'context':
      if (!NAME.test(raw)) throw new Error(`must be a context name (got '${raw}')`);
      return raw;
    case 'contexts':
    case 'projections': {
      const items = list(raw);
      const bad = items.filter((item) => !NAME.test(item));
      if (items.length === 0 || bad.length > 0)
        throw new Error(`must be names, comma-separated (got '${raw}')`);
      return items;
    }
    case 'int': {
      const value = Number(raw);
      const min = spec.min ?? 0;
      if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min)
        throw new Error(`must be an integer >= ${min} (got '${raw}')`);
      if (spec.max !== undefined && value > spec.max)
        throw new Error(`must be an integer <= ${spec.max} (got '${raw}')`);
      return value;
    }
    case 'url': {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error(`must be a URL (got '${redact(spec, raw)}')`);
      }
      if (spec.protocols && !spec.protocols.includes(url.protocol))
        throw new Error(`must be a ${spec.protocols.map((p) => `${p}//`).join(' or ')} URL`);
      return raw;
    }
    case 'word':
      if (!WORD.test(raw)) throw new Error(`must be letters, digits, '.', '_', ':' or '-' (got '${raw}')`);
      return raw;
    case 'logLevel':
      if (!(LOG_LEVELS as readonly string[]).includes(raw))
        throw new Error(`must be one of ${LOG_LEVELS.join(', ')} (got '${raw}')`);
      return raw as LogLevel;
    case 'apiKeys':
      return parseApiKeys(raw);
    case 'file': {
      let isFile = false;
      try {
        isFile = statSync(raw).isFile();
      } catch {
        // reported below
      }
      if (!isFile) throw new Error(`must name an existing file (got '${raw}')`);
      return raw;
    }
    case 'apiKeysFile': {
      let text: string;
      try {
        text = readFileSync(raw, 'utf8');
      } catch (error) {
        throw new Error(`cannot be read: ${(error as Error).message}`);
      }
      try {
        return parseApiKeys(text);
      } catch (error) {
        throw new Error(`(${raw}) ${(error as Error).message}`);
      }
    }
  }
}

function redact(spec: EnvVar, raw: string): string {
  return spec.secret ? '<redacted>' : raw;
}

/** How a problem names a setting: the variable, and the flag that can replace it. */
function label(spec: EnvVar): string {
  return `${spec.name} (--${spec.flag})`;
}

/**
 * Resolves every setting of a command: the flag if given, else the variable, else the default; validates them
 * all and throws one ConfigError listing every problem.
 */
export function resolveSettings<S extends Service>(
  service: S,
  flags: FlagValues,
  env: NodeJS.ProcessEnv = process.env,
): Settings<S> {
  const specs: readonly EnvVar[] = SERVICE_ENV[service];
  const problems: string[] = [];
  const raw = new Map<string, string>();
  for (const spec of specs) {
    const flag = flags[spec.flag];
    const fromEnv = env[spec.name];
    const value =
      typeof flag === 'string' ? flag : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
    if (value !== undefined) raw.set(spec.name, value);
  }
  const settings: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = raw.get(spec.name) ?? spec.default;
    if (value === undefined) {
      if (spec.required)
        problems.push(`--${spec.flag} is required (or set ${spec.name}): ${spec.description}`);
      settings[spec.flag] = undefined;
      continue;
    }
    try {
      settings[spec.flag] = parseValue(spec, value);
    } catch (error) {
      problems.push(`${label(spec)} ${(error as Error).message}`);
    }
  }
  const groups = new Map<string, EnvVar[]>();
  for (const spec of specs) if (spec.oneOf) groups.set(spec.oneOf, [...(groups.get(spec.oneOf) ?? []), spec]);
  for (const members of groups.values()) {
    const set = members.filter((spec) => raw.has(spec.name));
    const names = members.map((spec) => spec.name).join(' or ');
    if (set.length === 0)
      problems.push(`${names} is required (flags ${members.map((s) => `--${s.flag}`).join(', ')})`);
    if (set.length > 1) problems.push(`set only one of ${names}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return settings as Settings<S>;
}

/** The settings of a command from the environment alone (no flags). */
export function readEnv<S extends Service>(service: S, env: NodeJS.ProcessEnv = process.env): Settings<S> {
  return resolveSettings(service, {}, env);
}

/** The settings as --check-config prints them: secrets redacted, API keys reduced to their ids and scopes. */
export function describeSettings(service: Service, settings: object): Record<string, unknown> {
  const values = settings as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const spec of SERVICE_ENV[service] as readonly EnvVar[]) {
    const value = values[spec.flag];
    if (value === undefined) continue;
    if (spec.kind === 'apiKeys' || spec.kind === 'apiKeysFile') {
      out[spec.name] = (value as ApiKeyConfig[]).map((key) => ({ id: key.id, scopes: key.scopes }));
    } else if (spec.secret && typeof value === 'string') {
      out[spec.name] = redactUrl(value);
    } else {
      out[spec.name] = value;
    }
  }
  return out;
}

function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<redacted>';
  }
}
