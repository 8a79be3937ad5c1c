/**
 * Read-path benchmark (issue 4): catch-up of each projector over N events (default 1,000,000), side by side in
 * the same run with Emmett's async PostgreSQL projector over the same events on the same Postgres and with that
 * Postgres's raw multi-row INSERT rate; then token-wait latency p50/p99 (command acknowledged -> token read
 * answered) of each view under a steady command load. Goal: the Postgres projector catches up at >= 50,000
 * events/s and the token-wait p99 is <= 50 ms.
 *
 *   npm run build && node test/dist/bench/read-path.bench.js [--events 1000000] [--partitions 8] ...   (--help)
 *
 * Catch-up: a stack (broker as a child process, PostgreSQL, Redis, memcached) is started in a temp dir; the
 * events are produced straight into listings.events (after its genesis record) and appended to Emmett's event
 * store (both loading, not timed). Then, one at a time, each Tidemark projector runs in this process from offset
 * 0 to the log end; Emmett's consumer + projector runs from the store's beginning until no messages are left;
 * and N rows go into a plain table with multi-row INSERTs.
 *
 * Token wait: a second, separate `tidemark up` (gateway, processor, projectors, query API) runs as a child;
 * this process runs --clients closed-loop clients that send a command and, once it is acknowledged, read each
 * view with the command's token.
 */

import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createKafka,
  ensureTopicIdentity,
  PartitionReader,
  partitionForKey,
  provisionContextTopics,
} from '@tidemark/kafka';
import { listingEvents } from '@tidemark/listings';
import {
  listingCardProjection,
  listingDetailProjection,
  listingSearchProjection,
  sellerStatsProjection,
} from '@tidemark/listings-projections';
import { PROJECTOR_NODE_FLAGS, projectorArgs, projectorEnv } from '@tidemark/ops';
import { createElasticsearchSink } from '@tidemark/projection-elasticsearch';
import { createMemcachedSink } from '@tidemark/projection-memcached';
import { createPostgresSink } from '@tidemark/projection-postgres';
import { createRedisSink } from '@tidemark/projection-redis';
import type { ProjectionDefinition, Sink } from '@tidemark/projection-runtime';
import {
  createPostgresProjectionControl,
  createPostgresWatermarkBus,
  Projector,
} from '@tidemark/projection-runtime';
import { startStack } from '@tidemark/stack';
import pg from 'pg';
import pino from 'pino';
import { REPO_DEPLOYMENT_FILE } from '../support/deployment';
import { type EmmettProjectionKind, loadEmmettStore, runEmmettProjector } from './emmett-projection';
import {
  aggregateIdOf,
  benchEvent,
  CONTEXT,
  EVENTS_TOPIC,
  EventPlan,
  endOffsets,
  envelope,
  loadKafka,
  PER_AGGREGATE,
  priceAt,
  progress,
} from './listings-log';
import { fmt, summarize } from './stats';
import type { UpEndpoints } from './up-child';
import { httpCall, startUp } from './up-child';

const _CLI = resolve(__dirname, '../../../services/ops/bin/tidemark.js');

const HELP = `read-path.bench: projector catch-up (Tidemark Postgres/Redis/memcached vs Emmett async projector vs raw
multi-row INSERT) and token-wait latency of the query API under a steady command load.

  node test/dist/bench/read-path.bench.js [options]

Options:
  --events <n>            Events in the log and in Emmett's store (default 1000000)
  --partitions <n>        Partitions of listings.* (default 8)
  --wave <n>              Aggregates interleaved in the log: each wave of <n> aggregates has all its publishes,
                          then all its first price changes, ... (default 10000)
  --phases <list>         Any of tidemark,emmett,raw,token (default all)
  --projections <list>    Tidemark projections to catch up (default listing-detail,seller-stats,listing-card;
                          also listing-search: the Elasticsearch sink into the stack's embedded search server)
  --emmett <list>         Emmett projections: sql (postgreSQLProjection, one upsert/merge per event: the
                          fastest) and/or pongo (pongoSingleStreamProjection, document per stream: ~3x slower)
                          (default sql)
  --emmett-events <n>     Load and project only the first <n> events' listings in Emmett (default: --events;
                          loading is sequential, see --emmett-concurrency, so the full 1M takes minutes)
  --emmett-batch <n>      Emmett consumer pulling.batchSize (default 1000; Emmett's default is 100)
  --emmett-pull-ms <n>    Emmett consumer pulling.pullingFrequencyInMs (default 0; Emmett's default is 50)
  --emmett-limit <n>      Stop Emmett's projector after <n> events (a prefix; default: all)
  --emmett-concurrency <n>  appendToStream calls in flight while loading Emmett's store (default 1: with more,
                          commit order differs from global_position order, and Emmett 0.42's puller, which
                          reads in transaction order from the last position, then skips or repeats events)
  --processor-mode <m>    Token wait: \`tidemark up --processor-mode\`, in-process (default) or child
  --instances <n>         Catch-up: \`tidemark projector\` processes sharing the projection's consumer group, as
                          deployed (default 1); 0 runs the projector in this process instead
  --raw-rows <n>          Rows per INSERT statement (default 1000)
  --raw-connections <n>   Connections inserting at once (default 2)
  --clients <n>           Token wait: concurrent command clients (default 8)
  --seconds <n>           Token wait: measured seconds (default 20)
  --projector-mode <m>    Token wait: \`tidemark up --projector-mode\`, in-process (default) or child (the
                          projectors in their own process, as docker-compose runs them)
  -h, --help              Show this text

Output: a progress line on stderr during long phases; markdown tables on stdout (events/s; p50/p99 ms).
`;

// ------------------------------------------------------------------ Tidemark projectors

interface CatchUpResult {
  name: string;
  store: string;
  events: number;
  /** From Projector.start() to the watermark at the log end. */
  seconds: number;
  /** Projector.start() (sink prepare, checkpoints, group join). */
  startSeconds: number;
  /** Events applied after start() returned, per second until the log end. */
  rate: number;
  /** Sink load + commit of one partition batch (the sink's share of a batch: the store round trips). */
  batchP50: number;
  batchP99: number;
  batches: number;
  /** The spot check of a few documents passed (aggregate-scoped views; true for the others). */
  verified: boolean;
}

const DEFINITIONS: Record<string, ProjectionDefinition> = {
  'listing-detail': listingDetailProjection as unknown as ProjectionDefinition,
  'seller-stats': sellerStatsProjection as unknown as ProjectionDefinition,
  'listing-card': listingCardProjection as unknown as ProjectionDefinition,
  'listing-search': listingSearchProjection as unknown as ProjectionDefinition,
};

function openSink(definition: ProjectionDefinition, stores: StackUrls, partitions: number): Sink {
  switch (definition.store) {
    case 'postgres':
      return createPostgresSink(definition, { connectionString: stores.postgres });
    case 'redis':
      return createRedisSink(definition, { url: stores.redis });
    case 'memcached':
      return createMemcachedSink(definition, { servers: stores.memcached, partitions });
    case 'elasticsearch':
      // As `tidemark projector` opens it: refresh 'wait_for' on each commit's bulk.
      if (!stores.search) throw new Error('the stack has no search server');
      return createElasticsearchSink(definition, { node: stores.search, partitions });
    default:
      throw new Error(`no sink for store ${definition.store}`);
  }
}

/** The sink with its load -> commit time per partition batch recorded. */
function timedSink(sink: Sink, samples: number[]): Sink {
  const loadStarted = new Map<number, number>();
  return {
    store: sink.store,
    prepare: () => sink.prepare(),
    checkpoints: () => sink.checkpoints(),
    load: (partition, keys) => {
      loadStarted.set(partition, performance.now());
      return sink.load(partition, keys);
    },
    commit: async (partition, writes, checkpoint) => {
      const t0 = loadStarted.get(partition) ?? performance.now();
      loadStarted.delete(partition);
      await sink.commit(partition, writes, checkpoint);
      samples.push(performance.now() - t0);
    },
    read: (partition, key) => sink.read(partition, key),
    drop: () => sink.drop(),
    close: () => sink.close(),
  };
}

interface StackUrls {
  broker: string;
  postgres: string;
  redis?: string;
  memcached?: string;
  search?: string;
}

async function catchUpTidemark(
  name: string,
  stores: StackUrls,
  partitions: number,
  end: Map<number, number>,
  plan: EventPlan,
  logger: pino.Logger,
): Promise<CatchUpResult> {
  const definition = DEFINITIONS[name];
  if (!definition)
    throw new Error(`unknown projection ${name} (known: ${Object.keys(DEFINITIONS).join(', ')})`);
  const samples: number[] = [];
  const sink = timedSink(openSink(definition, stores, partitions), samples);
  const bus = createPostgresWatermarkBus({ connectionString: stores.postgres, logger });
  const control = createPostgresProjectionControl({ connectionString: stores.postgres, logger });
  const target = [...end.values()].reduce((sum, high) => sum + high, 0);
  const bar = progress(`catch-up ${name}`, target);
  const applied = (wm: Map<number, number>) => {
    let sum = 0;
    for (const [p, high] of end) sum += Math.min(high, wm.get(p) ?? 0);
    return sum;
  };
  const t0 = performance.now();
  const projector = await Projector.start({
    brokers: [stores.broker],
    definition,
    sink,
    events: listingEvents,
    bus,
    control,
    logger: logger.child({ projection: name }),
  });
  const ready = performance.now();
  const readyApplied = applied(projector.watermark());
  const timer = setInterval(() => bar.tick(applied(projector.watermark())), 1000);
  try {
    await projector.waitForWatermark(end, 3_600_000);
  } finally {
    clearInterval(timer);
  }
  const finished = performance.now();
  await projector.stop();
  const problems = definition.keyScope === 'aggregate' ? await spotCheck(sink, plan, partitions) : [];
  if (problems.length > 0) process.stderr.write(`  ${name}: spot check FAILED: ${problems.join('; ')}\n`);
  await sink.close();
  await bus.close();
  await control.close();
  const s = summarize(samples);
  return {
    name,
    store: definition.store,
    events: target,
    seconds: (finished - t0) / 1000,
    startSeconds: (ready - t0) / 1000,
    rate: (target - readyApplied) / ((finished - ready) / 1000),
    batchP50: s.p50,
    batchP99: s.p99,
    batches: s.count,
    verified: problems.length === 0,
  };
}

/**
 * Catch-up as deployed: `instances` `tidemark projector` processes (one consumer group; the node flags
 * `tidemark up` gives its projector children), progress read from the sink's checkpoints. The batch times are
 * the processes' own (decode to watermark publish, from their debug log lines).
 */
async function catchUpProcesses(
  name: string,
  stores: StackUrls,
  partitions: number,
  end: Map<number, number>,
  plan: EventPlan,
  instances: number,
): Promise<CatchUpResult> {
  const definition = DEFINITIONS[name];
  if (!definition) throw new Error(`unknown projection ${name}`);
  const sink = openSink(definition, stores, partitions);
  const target = [...end.values()].reduce((sum, high) => sum + high, 0);
  const bar = progress(`catch-up ${name} (${instances} process${instances > 1 ? 'es' : ''})`, target);
  const samples: number[] = [];
  const t0 = performance.now();
  const children = Array.from({ length: instances }, () => {
    const child = spawn(
      process.execPath,
      [
        ...PROJECTOR_NODE_FLAGS,
        _CLI,
        'projector',
        ...projectorArgs({
          brokers: [stores.broker],
          stores: { ...stores, elasticsearch: stores.search },
          partitions,
          config: REPO_DEPLOYMENT_FILE,
          projections: [name],
          metricsPort: -1,
        }),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...projectorEnv(), TIDEMARK_LOG_LEVEL: 'debug' } },
    );
    let rest = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"batch committed"')) continue;
        const entry = JSON.parse(line) as Record<string, number>;
        const parts = ['decodeMs', 'loadMs', 'foldMs', 'waitMs', 'commitMs', 'publishMs'];
        samples.push(parts.reduce((sum, k) => sum + (entry[k] ?? 0), 0));
      }
    });
    return child;
  });
  let running = true;
  const exited = children.map(
    (child) =>
      new Promise<void>((done) =>
        child.once('exit', (code, signal) => {
          if (running) process.stderr.write(`  ${name}: a projector process exited (${code ?? signal})\n`);
          done();
        }),
      ),
  );
  let failed = false;
  void Promise.race(exited).then(() => {
    failed = running;
  });
  const applied = (checkpoints: Map<number, number>) => {
    let sum = 0;
    for (const [p, high] of end) sum += Math.min(high, checkpoints.get(p) ?? 0);
    return sum;
  };
  // The rate counts from the first commit seen (process start, sink prepare and group join are reported apart).
  let readyAt: number | undefined;
  let readyApplied = 0;
  try {
    for (;;) {
      const done = applied(await sink.checkpoints());
      if (done > 0 && readyAt === undefined) {
        readyAt = performance.now();
        readyApplied = done;
      }
      bar.tick(done);
      if (done >= target) break;
      if (failed) throw new Error(`${name}: a projector process exited during the catch-up`);
      if (performance.now() - t0 > 3_600_000)
        throw new Error(`${name}: catch-up did not finish within an hour`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    running = false;
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(exited);
  }
  const finished = performance.now();
  const problems = definition.keyScope === 'aggregate' ? await spotCheck(sink, plan, partitions) : [];
  if (problems.length > 0) process.stderr.write(`  ${name}: spot check FAILED: ${problems.join('; ')}\n`);
  await sink.close();
  const s = summarize(samples);
  return {
    name: `${name} (${instances} process${instances > 1 ? 'es' : ''})`,
    store: definition.store,
    events: target,
    seconds: (finished - t0) / 1000,
    startSeconds: ((readyAt ?? finished) - t0) / 1000,
    // A log that fits in the first commits has no interval after them: then the whole run counts.
    rate:
      readyAt !== undefined && readyApplied < target
        ? (target - readyApplied) / ((finished - readyAt) / 1000)
        : target / ((finished - t0) / 1000),
    batchP50: s.p50,
    batchP99: s.p99,
    batches: s.count,
    verified: problems.length === 0,
  };
}

/** Reads a few listings' documents back: each must exist with the price of its last price-carrying event. */
async function spotCheck(sink: Sink, plan: EventPlan, partitions: number): Promise<string[]> {
  const problems: string[] = [];
  const sample = [0, 1, 2, 3, Math.floor(plan.aggregates / 2), plan.aggregates - 1].filter((a) => a >= 0);
  for (const a of new Set(sample)) {
    const key = aggregateIdOf(a);
    const found = await sink.read(partitionForKey(key, partitions), key);
    if (typeof found === 'string' || found.doc === null) {
      problems.push(`${key}: ${typeof found === 'string' ? found : 'tombstone'}`);
      continue;
    }
    const steps = plan.stepsOf(a);
    let price = priceAt(a, 0);
    for (let step = 1; step < steps; step++) {
      const event = benchEvent(a, step);
      if (event.type === 'PriceChanged') price = event.payload.priceCents as number;
    }
    const doc = found.doc as { priceCents?: number; version?: number };
    if (doc.priceCents !== price) problems.push(`${key}: priceCents ${doc.priceCents}, expected ${price}`);
    if (doc.version !== undefined && doc.version !== steps)
      problems.push(`${key}: version ${doc.version}, expected ${steps}`);
  }
  return problems;
}

// ------------------------------------------------------------------ raw INSERT

async function rawInsert(
  connectionString: string,
  plan: EventPlan,
  rowsPerStatement: number,
  connections: number,
) {
  const pool = new pg.Pool({ connectionString, max: connections });
  // An idle client whose server stops (the stack shuts Postgres down) emits 'error': not a crash.
  pool.on('error', () => undefined);
  try {
    await pool.query(
      'create table if not exists read_bench_raw (id bigserial primary key, key text not null, doc jsonb not null)',
    );
    const bar = progress('raw INSERT', plan.events);
    const rows = plan.inLogOrder();
    let inserted = 0;
    const latencies: number[] = [];
    const started = performance.now();
    // `connections` writers; each builds its next statement's rows while the others' statements run.
    await Promise.all(
      Array.from({ length: connections }, async () => {
        for (;;) {
          const keys: string[] = [];
          const docs: string[] = [];
          for (let next = rows.next(); !next.done; next = rows.next()) {
            const env = envelope(next.value.a, next.value.step, next.value.seq);
            keys.push(env.aggregate.id);
            docs.push(JSON.stringify(env));
            if (keys.length >= rowsPerStatement) break;
          }
          if (keys.length === 0) return;
          const t = performance.now();
          await pool.query(
            'insert into read_bench_raw (key, doc) select * from unnest($1::text[], $2::jsonb[])',
            [keys, docs],
          );
          latencies.push(performance.now() - t);
          inserted += keys.length;
          bar.tick(inserted);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const s = summarize(latencies);
    return { rate: inserted / seconds, seconds, p50: s.p50, p99: s.p99 };
  } finally {
    await pool.end();
  }
}

// ------------------------------------------------------------------ token wait

interface TokenWaitResult {
  commands: number;
  commandRate: number;
  commandP50: number;
  commandP99: number;
  views: { view: string; reads: number; p50: number; p99: number; errors: number }[];
  commandErrors: number;
}

/** --clients closed loops: command, then (once acknowledged) each view read with the command's token. */
async function tokenWait(endpoints: UpEndpoints, clients: number, seconds: number): Promise<TokenWaitResult> {
  if (!endpoints.query) {
    // TODO(read path): `tidemark up` does not write `query` into endpoints.json yet; nothing to measure.
    throw new Error('endpoints.json has no `query` endpoint: `tidemark up` does not run the query API yet');
  }
  const gateway = new URL(endpoints.gateway);
  const query = endpoints.query.replace(/\/$/, '');
  const agent = new Agent({ keepAlive: true, maxSockets: clients * 4 });
  const auth = { authorization: `Bearer ${endpoints.apiKey}` };
  const views: { view: string; path: (listing: string, seller: string) => string }[] = [
    { view: 'listing-detail (Postgres)', path: (l) => `/v1/listings/${l}` },
    { view: 'listing-card (memcached)', path: (l) => `/v1/listings/${l}/card` },
    { view: 'seller-stats (Redis)', path: (_l, s) => `/v1/sellers/${s}/stats` },
  ];
  const waits: number[][] = views.map(() => []);
  const errors: number[] = views.map(() => 0);
  const commandLatencies: number[] = [];
  let commandErrors = 0;
  const run = Date.now().toString(36);
  const loop = async (client: number, deadline: number, measure: boolean) => {
    const seller = `tw-seller-${run}-${client}`;
    let listing = '';
    let version = 0;
    let price = 1000;
    for (let i = 0; performance.now() < deadline; i++) {
      // Every 5th command publishes a new listing, the others change its price.
      const publish = i % 5 === 0;
      if (publish) {
        listing = `tw-${run}-${client}-${i}`;
        version = 0;
      }
      price += 1;
      const command = publish
        ? {
            type: 'PublishListing',
            aggregateId: listing,
            expectedVersion: 'new',
            payload: {
              sellerId: seller,
              title: `Listing ${listing}`,
              description: 'Steel frame, good condition',
              category: 'bikes',
              priceCents: price,
              currency: 'EUR',
              location: { country: 'NL', city: 'Utrecht' },
            },
          }
        : {
            type: 'ChangePrice',
            aggregateId: listing,
            expectedVersion: version,
            payload: { priceCents: price },
          };
      const t0 = performance.now();
      const answer = await httpCall(
        agent,
        new URL(`/v1/contexts/${CONTEXT}/commands`, gateway),
        'POST',
        auth,
        JSON.stringify(command),
      );
      const acknowledged = performance.now();
      if (answer.status !== 200) {
        if (measure) commandErrors++;
        i = 4; // next command publishes a fresh listing
        continue;
      }
      const outcome = JSON.parse(answer.body) as { token?: string; aggregateVersion?: number };
      version = outcome.aggregateVersion ?? version + 1;
      const token = outcome.token ?? '';
      if (measure) commandLatencies.push(acknowledged - t0);
      await Promise.all(
        views.map(async (v, index) => {
          const read = await httpCall(agent, new URL(`${query}${v.path(listing, seller)}`), 'GET', {
            ...auth,
            'consistency-token': token,
          });
          const answered = performance.now();
          if (!measure) return;
          if (read.status === 200) (waits[index] as number[]).push(answered - acknowledged);
          else errors[index] = (errors[index] as number) + 1;
        }),
      );
    }
  };
  // Warm-up: connections, JIT, first partition takeovers.
  const warm = performance.now() + 2000;
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c + clients, warm, false)));
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c, deadline, true)));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const c = summarize(commandLatencies);
  return {
    commands: commandLatencies.length,
    commandRate: commandLatencies.length / elapsed,
    commandP50: c.p50,
    commandP99: c.p99,
    commandErrors,
    views: views.map((v, index) => {
      const s = summarize(waits[index] as number[]);
      return { view: v.view, reads: s.count, p50: s.p50, p99: s.p99, errors: errors[index] as number };
    }),
  };
}

// ------------------------------------------------------------------ main

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer (got '${value}')`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '8' },
      wave: { type: 'string', default: '10000' },
      phases: { type: 'string', default: 'tidemark,emmett,raw,token' },
      projections: { type: 'string', default: 'listing-detail,seller-stats,listing-card' },
      emmett: { type: 'string', default: 'sql' },
      'emmett-events': { type: 'string' },
      'emmett-batch': { type: 'string', default: '1000' },
      'emmett-pull-ms': { type: 'string', default: '0' },
      'emmett-limit': { type: 'string' },
      'emmett-concurrency': { type: 'string', default: '1' },
      'raw-rows': { type: 'string', default: '1000' },
      'raw-connections': { type: 'string', default: '2' },
      clients: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '20' },
      'projector-mode': { type: 'string', default: 'in-process' },
      'processor-mode': { type: 'string', default: 'in-process' },
      instances: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const events = positiveInt('events', values.events);
  const partitions = positiveInt('partitions', values.partitions);
  const plan = new EventPlan(events, Math.max(1, positiveInt('wave', values.wave)));
  const phases = new Set(values.phases.split(',').map((s) => s.trim()));
  const projections = values.projections
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const emmettKinds = values.emmett
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as EmmettProjectionKind[];
  for (const kind of emmettKinds) {
    if (kind !== 'pongo' && kind !== 'sql')
      throw new Error(`--emmett takes pongo and/or sql (got '${kind}')`);
  }
  const emmettBatch = positiveInt('emmett-batch', values['emmett-batch']);
  const emmettPullMs = positiveInt('emmett-pull-ms', values['emmett-pull-ms']);
  const emmettLimit =
    values['emmett-limit'] === undefined ? undefined : positiveInt('emmett-limit', values['emmett-limit']);
  const clients = positiveInt('clients', values.clients);
  const instances = positiveInt('instances', values.instances);
  const seconds = positiveInt('seconds', values.seconds);
  const reproduce = `node test/dist/bench/read-path.bench.js ${process.argv.slice(2).join(' ')}`.trim();

  const logger = pino({ level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const catchUps: CatchUpResult[] = [];
  const emmett: {
    kind: EmmettProjectionKind;
    events: number;
    seconds: number;
    rate: number;
    documents: number;
    listings: number;
  }[] = [];
  let raw: Awaited<ReturnType<typeof rawInsert>> | null = null;
  let tokenResult: TokenWaitResult | null = null;
  let tokenError: string | null = null;

  if (phases.has('tidemark') || phases.has('emmett') || phases.has('raw')) {
    const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-read-bench-'));
    await chmod(dataDir, 0o755);
    const stack = await startStack({
      dataDir,
      ports: { broker: 0, postgres: 0, redis: 0, memcached: 0 },
      metricsPort: null,
      brokerMode: 'child',
      logger,
    });
    try {
      const endpoints = stack.endpoints as StackUrls;
      process.stderr.write(`stack up: broker ${endpoints.broker}, postgres ${endpoints.postgres}\n`);
      if (phases.has('tidemark')) {
        // kafkajs warns about every idempotent producer with bounded retries: loading only needs errors.
        const kafka = createKafka({
          brokers: [endpoints.broker],
          clientId: 'read-path-bench',
          logger: pino({ level: 'error' }, pino.destination(2)),
        });
        const admin = kafka.admin();
        await admin.connect();
        await provisionContextTopics(admin, CONTEXT, { partitions });
        await admin.disconnect();
        const reader = PartitionReader.create([endpoints.broker]);
        await ensureTopicIdentity(kafka, reader, EVENTS_TOPIC);
        reader.close();
        await loadKafka(kafka, plan, partitions);
        const end = await endOffsets(kafka);
        for (const name of projections) {
          const result =
            instances === 0
              ? await catchUpTidemark(name, endpoints, partitions, end, plan, logger)
              : await catchUpProcesses(name, endpoints, partitions, end, plan, instances);
          catchUps.push(result);
          process.stderr.write(
            `  ${name}: ${fmt(result.rate, 0)} events/s (${fmt(result.seconds)} s, of which ${fmt(result.startSeconds)} s start-up)\n`,
          );
        }
      }
      if (phases.has('emmett') && emmettKinds.length > 0) {
        const emmettPlan = new EventPlan(
          Math.min(
            events,
            values['emmett-events'] ? positiveInt('emmett-events', values['emmett-events']) : events,
          ),
          plan.wave,
        );
        const bar = progress("loading Emmett's event store", emmettPlan.events);
        await loadEmmettStore(endpoints.postgres, emmettPlan.byAggregate(), {
          concurrency: positiveInt('emmett-concurrency', values['emmett-concurrency']),
          onProgress: (n) => bar.tick(n),
        });
        process.stderr.write(`  loaded Emmett's store in ${fmt(bar.seconds())} s\n`);
        for (const kind of emmettKinds) {
          const total = emmettLimit ?? emmettPlan.events;
          const run = progress(`Emmett async projector (${kind})`, total);
          const result = await runEmmettProjector(endpoints.postgres, kind, {
            batchSize: emmettBatch,
            pullingFrequencyInMs: emmettPullMs,
            stopAfterEvents: emmettLimit,
            onProgress: (n) => run.tick(n),
          });
          emmett.push({
            kind,
            ...result,
            rate: result.events / result.seconds,
            listings: emmettPlan.aggregates,
          });
          process.stderr.write(
            `  Emmett ${kind}: ${fmt(result.events / result.seconds, 0)} events/s (${result.events} events, ${result.documents} documents)\n`,
          );
        }
      }
      if (phases.has('raw')) {
        raw = await rawInsert(
          endpoints.postgres,
          plan,
          positiveInt('raw-rows', values['raw-rows']),
          Math.max(1, positiveInt('raw-connections', values['raw-connections'])),
        );
        process.stderr.write(`  raw INSERT: ${fmt(raw.rate, 0)} rows/s\n`);
      }
    } finally {
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  if (phases.has('token')) {
    const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-read-bench-up-'));
    await chmod(dataDir, 0o755);
    let up: Awaited<ReturnType<typeof startUp>> | undefined;
    try {
      up = await startUp(dataDir, partitions, values['projector-mode'], [
        `--processor-mode=${values['processor-mode']}`,
      ]);
      tokenResult = await tokenWait(up.endpoints, clients, seconds);
    } catch (error) {
      tokenError = error instanceof Error ? error.message : String(error);
      process.stderr.write(`token wait not measured: ${tokenError}\n`);
    } finally {
      const child = up?.child;
      if (child && child.exitCode === null) {
        await new Promise<void>((done) => {
          child.once('exit', () => done());
          child.kill('SIGINT');
        });
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  // ---------------------------------------------------------------- report
  const out: string[] = [
    '',
    catchUps.length > 0 || emmett.length > 0 || raw
      ? `Read path: ${events.toLocaleString('en')} events (${plan.aggregates.toLocaleString('en')} listings x ${PER_AGGREGATE}: publish, price, details, price, withdraw/sell/price), ${partitions} partitions`
      : `Read path: ${partitions} partitions`,
    '',
  ];
  const pgDetail = catchUps.find((r) => r.store === 'postgres');
  const bestEmmett = emmett.reduce<(typeof emmett)[number] | undefined>(
    (best, e) => (!best || e.rate > best.rate ? e : best),
    undefined,
  );
  if (catchUps.length > 0 || emmett.length > 0 || raw) {
    out.push(
      '| catch-up | store | events | events/s | seconds | batch p50 ms | batch p99 ms | documents |',
      '|---|---|---|---|---|---|---|---|',
    );
  }
  for (const r of catchUps) {
    out.push(
      `| Tidemark ${r.name} | ${r.store} | ${r.events} | ${fmt(r.rate, 0)} | ${fmt(r.seconds)} (start ${fmt(r.startSeconds)}) | ${fmt(r.batchP50)} | ${fmt(r.batchP99)} (${r.batches} batches) | ${r.verified ? 'spot check ok' : 'spot check FAILED'} |`,
    );
  }
  for (const e of emmett) {
    out.push(
      `| Emmett async projector (${e.kind === 'pongo' ? 'pongoSingleStreamProjection' : 'SQL upsert per event'}, batch ${emmettBatch}, pull ${emmettPullMs} ms) | postgres | ${e.events} | ${fmt(e.rate, 0)} | ${fmt(e.seconds)} | n/a | n/a | ${e.documents} of ${e.listings} |`,
    );
  }
  if (raw) {
    out.push(
      `| raw multi-row INSERT (${values['raw-rows']} rows/statement, ${values['raw-connections']} connections) | postgres | ${events} | ${fmt(raw.rate, 0)} | ${fmt(raw.seconds)} | ${fmt(raw.p50)} (statement) | ${fmt(raw.p99)} (statement) | |`,
    );
  }
  out.push('');
  if (pgDetail) {
    const goal = pgDetail.rate >= 50_000 ? 'met' : 'NOT met';
    out.push(`Tidemark Postgres projector: ${fmt(pgDetail.rate, 0)} events/s (goal >= 50,000: ${goal})`);
    if (bestEmmett)
      out.push(
        `Tidemark Postgres / Emmett (${bestEmmett.kind}): ${fmt(pgDetail.rate / bestEmmett.rate, 1)}x`,
      );
    for (const e of emmett)
      if (e !== bestEmmett)
        out.push(`Tidemark Postgres / Emmett (${e.kind}): ${fmt(pgDetail.rate / e.rate, 1)}x`);
    if (raw) out.push(`Tidemark Postgres / raw INSERT: ${fmt(pgDetail.rate / raw.rate, 2)}`);
    out.push('');
  }
  if (tokenResult) {
    out.push(
      `Token wait: ${clients} clients for ${seconds} s, ${tokenResult.commands} commands (${fmt(tokenResult.commandRate, 0)}/s, command p50 ${fmt(tokenResult.commandP50)} ms, p99 ${fmt(tokenResult.commandP99)} ms, ${tokenResult.commandErrors} errors)`,
      '',
      '| view | reads | token wait p50 ms | p99 ms | errors |',
      '|---|---|---|---|---|',
      ...tokenResult.views.map(
        (v) => `| ${v.view} | ${v.reads} | ${fmt(v.p50)} | ${fmt(v.p99)} | ${v.errors} |`,
      ),
      '',
    );
    const worst = Math.max(...tokenResult.views.map((v) => v.p99));
    out.push(
      `Token-wait p99 (worst view): ${fmt(worst)} ms (goal <= 50 ms: ${worst <= 50 ? 'met' : 'NOT met'})`,
      '',
    );
  } else if (tokenError) {
    out.push(`Token wait: not measured (${tokenError})`, '');
  }
  out.push(`Reproduce: npm run build && ${reproduce}`, '');
  process.stdout.write(out.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
