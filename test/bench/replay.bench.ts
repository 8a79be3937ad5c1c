/**
 * Replay benchmark (issue 6): replay throughput of N events (default 1,000,000) into each store while live
 * traffic continues, and the live read latency p50/p99 before and during each replay.
 *
 *   npm run build && node test/dist/bench/replay.bench.js [--events 1000000] [--partitions 8] ...   (--help)
 *
 * `tidemark up` runs as a child (projectors in their own process, as deployed) with this benchmark's catalog
 * (test/bench/replay-catalog.ts). The log is produced straight into listings.events; once the live versions
 * (v1) have caught up, each projection's v2 is replayed with `tidemark replay` on a quiet platform (the
 * baseline, then retired), then live traffic starts: --clients closed loops that send a command and read every
 * view with its token. After a window of reads without a replay, each projection's v3 is replayed under that
 * traffic. Reported: events/s of each replay (quiet and under traffic, and their ratio) and the read p50/p99
 * before and during each replay (and the p99 ratio).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createKafka } from '@tidemark/kafka';
import { openSink } from '@tidemark/ops';
import type { ProjectionDefinition } from '@tidemark/projection-runtime';
import pino from 'pino';
import { CONTEXT, EventPlan, endOffsets, loadKafka } from './listings-log';
import { projections as CATALOG_VERSIONS } from './replay-catalog';
import { fmt, summarize } from './stats';
import type { UpEndpoints } from './up-child';
import { httpCall, startUp } from './up-child';

const CLI = resolve(__dirname, '../../../services/ops/bin/tidemark.js');
const CATALOG = resolve(__dirname, 'replay-catalog.js');
const STORES: Record<string, string> = {
  'listing-detail': 'Postgres',
  'seller-stats': 'Redis',
  'listing-card': 'memcached',
  'listing-search': 'Elasticsearch (embedded search server)',
};

const HELP = `replay.bench: replay throughput into each store under live traffic, and live read latency

Usage: node test/dist/bench/replay.bench.js [options]

Options:
  --events <n>          Events in the log (default 1000000)
  --partitions <n>      Partitions of listings.* (default 8)
  --projections <list>  Which projections to replay (default listing-detail,seller-stats,listing-card,listing-search)
  --clients <n>         Live traffic: closed-loop clients, each a command then a token read of every view (default 4)
  --window <s>          Seconds of live reads measured before the replays (default 15)
  --no-quiet            Skip the quiet baseline replays
  --help                This text

Output: progress on stderr; a markdown table on stdout (events/s; read p50/p99 ms; ratios).
`;

interface ReplayRun {
  events: number;
  seconds: number;
  rate: number;
}

function runCli(
  args: string[],
  endpointsFile: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [CLI, ...args, '--endpoints', endpointsFile, '--catalog', CATALOG, '--actor', 'replay-bench'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDEMARK_LOG_LEVEL: 'warn' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      const text = c.toString();
      stderr += text;
      // The replay's progress lines (non-TTY: one every few seconds) go through.
      process.stderr.write(`    ${text.trimEnd().replaceAll('\n', '\n    ')}\n`);
    });
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

async function replay(projection: string, version: number, endpointsFile: string): Promise<ReplayRun> {
  const run = await runCli(
    ['replay', projection, '--version', String(version), '--no-progress'],
    endpointsFile,
  );
  const match = /live: ([\d,]+) events in ([\d.]+) s \(([\d,.]+) events\/s\)/.exec(run.stdout);
  if (run.code !== 0 || !match) {
    throw new Error(`replay ${projection} v${version} failed (${run.code}): ${run.stdout}\n${run.stderr}`);
  }
  const events = Number((match[1] as string).replaceAll(',', ''));
  const seconds = Number(match[2]);
  return { events, seconds, rate: events / seconds };
}

/** Live traffic: closed loops of a command, then a token read of every view; read latencies with timestamps. */
class LiveTraffic {
  readonly samples: { at: number; view: string; ms: number; ok: boolean }[] = [];
  commandErrors = 0;
  commands = 0;
  private stopped = false;
  private loops: Promise<void> = Promise.resolve();
  private readonly agent: Agent;

  constructor(
    private readonly endpoints: UpEndpoints,
    private readonly clients: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: clients * 6 });
  }

  start(): void {
    this.loops = Promise.all(Array.from({ length: this.clients }, (_, c) => this.loop(c))).then(
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loops;
    this.agent.destroy();
  }

  /** Read latency p50/p99 per view (and all views) between two times. */
  between(
    from: number,
    to: number,
  ): Map<string, { p50: number; p99: number; count: number; errors: number }> {
    const byView = new Map<string, number[]>();
    const errors = new Map<string, number>();
    for (const s of this.samples) {
      if (s.at < from || s.at > to) continue;
      for (const view of [s.view, 'all views']) {
        if (!s.ok) {
          errors.set(view, (errors.get(view) ?? 0) + 1);
          continue;
        }
        let list = byView.get(view);
        if (!list) {
          list = [];
          byView.set(view, list);
        }
        list.push(s.ms);
      }
    }
    const out = new Map<string, { p50: number; p99: number; count: number; errors: number }>();
    for (const [view, list] of byView) {
      const s = summarize(list);
      out.set(view, { p50: s.p50, p99: s.p99, count: s.count, errors: errors.get(view) ?? 0 });
    }
    return out;
  }

  private async loop(client: number): Promise<void> {
    const gateway = new URL(this.endpoints.gateway);
    const query = (this.endpoints.query as string).replace(/\/$/, '');
    const auth = { authorization: `Bearer ${this.endpoints.apiKey}` };
    const run = Date.now().toString(36);
    const seller = `rb-seller-${run}-${client}`;
    let listing = '';
    let word = '';
    let version = 0;
    let price = 1000;
    // After a failed command the client starts over with a new listing. Ids come from `i`, which only grows: a
    // command that failed for the client (202 pending, a timeout) may still have been applied, and publishing
    // the same id again would be refused as a conflict forever.
    let republish = false;
    for (let i = 0; !this.stopped; i++) {
      const publish = republish || i % 5 === 0;
      republish = false;
      if (publish) {
        listing = `rb-${run}-${client}-${i}`;
        word = `rbw${run}x${client}x${i}`;
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
              title: `Listing ${word}`,
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
      const answer = await httpCall(
        this.agent,
        new URL(`/v1/contexts/${CONTEXT}/commands`, gateway),
        'POST',
        auth,
        JSON.stringify(command),
      );
      if (answer.status !== 200) {
        this.commandErrors++;
        republish = true;
        continue;
      }
      this.commands++;
      const outcome = JSON.parse(answer.body) as { token?: string; aggregateVersion?: number };
      version = outcome.aggregateVersion ?? version + 1;
      const token = outcome.token ?? '';
      const reads: [string, string][] = [
        ['listing-detail', `/v1/listings/${listing}`],
        ['listing-card', `/v1/listings/${listing}/card`],
        ['seller-stats', `/v1/sellers/${seller}/stats`],
        ['listing-search', `/v1/listings/search?q=${word}`],
      ];
      await Promise.all(
        reads.map(async ([view, path]) => {
          const t0 = performance.now();
          const read = await httpCall(this.agent, new URL(`${query}${path}`), 'GET', {
            ...auth,
            'consistency-token': token,
          });
          this.samples.push({ at: t0, view, ms: performance.now() - t0, ok: read.status === 200 });
        }),
      );
    }
  }
}

async function waitForLiveVersions(
  definitions: ProjectionDefinition[],
  endpoints: UpEndpoints,
  partitions: number,
  ends: Map<number, number>,
): Promise<void> {
  const stores = {
    postgres: endpoints.postgres as string,
    redis: endpoints.redis,
    memcached: endpoints.memcached,
    elasticsearch: endpoints.search,
  };
  for (const definition of definitions) {
    const sink = openSink(definition, stores, partitions);
    const started = performance.now();
    let last = 0;
    try {
      for (;;) {
        const checkpoints = await sink.checkpoints();
        let behind = 0;
        for (const [p, end] of ends) behind += Math.max(0, end - (checkpoints.get(p) ?? 0));
        if (behind === 0) break;
        if (performance.now() - last > 5000) {
          last = performance.now();
          process.stderr.write(
            `  waiting for ${definition.name} v1 to catch up: ${behind.toLocaleString('en')} behind\n`,
          );
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await sink.close();
    }
    process.stderr.write(
      `  ${definition.name} v1 caught up (${fmt((performance.now() - started) / 1000)} s more)\n`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '8' },
      projections: { type: 'string', default: Object.keys(STORES).join(',') },
      clients: { type: 'string', default: '4' },
      window: { type: 'string', default: '15' },
      'no-quiet': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const events = Number(values.events);
  const partitions = Number(values.partitions);
  const clients = Number(values.clients);
  const windowSeconds = Number(values.window);
  const names = values.projections.split(',').map((s) => s.trim());
  for (const name of names) if (!STORES[name]) throw new Error(`unknown projection ${name}`);

  const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-replay-bench-'));
  await chmod(dataDir, 0o755);
  const endpointsFile = join(dataDir, 'endpoints.json');
  process.stderr.write(
    `replay.bench: ${events.toLocaleString('en')} events, ${partitions} partitions, data in ${dataDir}\n`,
  );
  const up = await startUp(dataDir, partitions, 'child', ['--search-port=0', '--catalog', CATALOG]);
  const results: {
    name: string;
    quiet?: ReplayRun;
    loaded: ReplayRun;
    before: ReturnType<LiveTraffic['between']>;
    during: ReturnType<LiveTraffic['between']>;
  }[] = [];
  let traffic: LiveTraffic | undefined;
  try {
    const kafka = createKafka({
      brokers: [up.endpoints.broker],
      clientId: 'replay-bench',
      logger: pino({ level: 'warn' }),
    });
    await loadKafka(kafka, new EventPlan(events, 10_000), partitions);
    const ends = await endOffsets(kafka);
    const v1 = CATALOG_VERSIONS.filter((d) => d.version === 1 && names.includes(d.name));
    await waitForLiveVersions(v1, up.endpoints, partitions, ends);

    const quiet = new Map<string, ReplayRun>();
    if (!values['no-quiet']) {
      for (const name of names) {
        process.stderr.write(`  quiet replay of ${name} v2\n`);
        quiet.set(name, await replay(name, 2, endpointsFile));
        // Retired at once (targets dropped), so that it does not run beside the measured replays.
        const retired = await runCli(['retire', name, '--version', '2', '--grace', '0'], endpointsFile);
        if (retired.code !== 0) throw new Error(`retire ${name} v2 failed: ${retired.stderr}`);
      }
    }

    traffic = new LiveTraffic(up.endpoints, clients);
    traffic.start();
    // Warm-up: the processor finds the directly loaded events on its first commands and rebuilds its partitions.
    const warmDeadline = performance.now() + 300_000;
    while (traffic.commands < clients * 20) {
      if (performance.now() > warmDeadline) throw new Error('live traffic did not get going within 300 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 3000));
    const beforeFrom = performance.now();
    await new Promise((r) => setTimeout(r, windowSeconds * 1000));
    const before = traffic.between(beforeFrom, performance.now());
    for (const name of names) {
      process.stderr.write(`  replay of ${name} v3 under live traffic\n`);
      const from = performance.now();
      const loaded = await replay(name, 3, endpointsFile);
      const during = traffic.between(from, performance.now());
      results.push({ name, quiet: quiet.get(name), loaded, before, during });
    }
  } finally {
    await traffic?.stop();
    up.child.kill('SIGINT');
    await new Promise((r) => up.child.once('exit', r));
    await rm(dataDir, { recursive: true, force: true });
  }

  const out: string[] = [];
  out.push(
    `Replay: ${events.toLocaleString('en')} events, ${partitions} partitions; live traffic ${clients} clients (command, then a token read of every view)`,
    '',
    '| store (projection) | quiet replay events/s | replay under live traffic events/s | under traffic / quiet | live read p50 / p99 ms before | during | p99 during / before |',
    '|---|---|---|---|---|---|---|',
  );
  for (const r of results) {
    const b = r.before.get('all views');
    const d = r.during.get('all views');
    out.push(
      `| ${STORES[r.name]} (${r.name}) | ${r.quiet ? fmt(r.quiet.rate, 0) : '-'} | ${fmt(r.loaded.rate, 0)} | ${r.quiet ? fmt(r.loaded.rate / r.quiet.rate, 2) : '-'} | ${fmt(b?.p50 ?? Number.NaN)} / ${fmt(b?.p99 ?? Number.NaN)} | ${fmt(d?.p50 ?? Number.NaN)} / ${fmt(d?.p99 ?? Number.NaN)} | ${b && d ? fmt(d.p99 / b.p99, 2) : '-'} |`,
    );
  }
  out.push('', 'Live read p99 per view (ms), before and during each replay:', '');
  const views = ['listing-detail', 'listing-card', 'seller-stats', 'listing-search'];
  out.push(
    `| replay of | ${views.join(' | ')} | read errors |`,
    `|---|${views.map(() => '---|').join('')}---|`,
  );
  const row = (label: string, m: ReturnType<LiveTraffic['between']>) =>
    `| ${label} | ${views.map((v) => fmt(m.get(v)?.p99 ?? Number.NaN)).join(' | ')} | ${m.get('all views')?.errors ?? 0} |`;
  if (results[0]) out.push(row('(none: before)', results[0].before));
  for (const r of results) out.push(row(r.name, r.during));
  out.push(
    '',
    `Reproduce: npm run build && node test/dist/bench/replay.bench.js --events ${events} --partitions ${partitions} --projections ${names.join(',')} --clients ${clients} --window ${windowSeconds}${values['no-quiet'] ? ' --no-quiet' : ''}`,
    '',
  );
  process.stdout.write(out.join('\n'));
  await writeFile(join(tmpdir(), 'replay-bench-last.md'), out.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
