/**
 * Write-path benchmark: commands/s and latency p50/p99 through the gateway (HTTP -> Kafka -> processor ->
 * Kafka transaction -> outcome) at several concurrencies, side by side in the same run with Emmett's PostgreSQL
 * event store (appendToStream with expectedStreamVersion, the same aggregates and events, the same Postgres)
 * and with that Postgres's raw single-row INSERT rate.
 *
 *   npm run bench:write -- [--concurrency 1,16,64] [--seconds 10] [--partitions 8]
 *
 * The platform runs as `tidemark up --broker-mode child`: the broker in its own process, the processor and the
 * gateway in another, and this process generates the load, as separate machines' worth of work would.
 */

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { REPO_DEPLOYMENT_FILE } from '../support/deployment';
import { fmt, summarize } from './stats';

const CLI = resolve(__dirname, '../../../services/ops/bin/tidemark.js');

interface Endpoints {
  gateway: string;
  postgres: string;
  apiKey: string;
}

interface RunResult {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
}

function publishPayload(aggregate: number) {
  return {
    sellerId: `seller-${aggregate % 100}`,
    title: `Listing ${aggregate}`,
    description: 'A bicycle in good condition, recently serviced',
    category: 'bikes',
    priceCents: 10_000 + aggregate,
    currency: 'EUR',
    location: { country: 'NL', city: 'Utrecht' },
  };
}

async function startPlatform(
  dataDir: string,
  partitions: number,
  modes: { processor: string; projectors: string },
): Promise<{ child: ChildProcess; endpoints: Endpoints }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'up',
      '--config',
      REPO_DEPLOYMENT_FILE,
      '--data-dir',
      dataDir,
      '--components',
      'broker,postgres',
      '--broker-mode',
      'child',
      '--broker-port=0',
      '--postgres-port=0',
      '--gateway-port=0',
      '--query-port=0',
      // As deployed (docker-compose): the processor in its own process, not on the gateway's event loop. The
      // projectors are off by default: Emmett's appendToStream, the peer, runs no projection either.
      '--processor-mode',
      modes.processor,
      '--projector-mode',
      modes.projectors,
      '--metrics-port=-1',
      '--partitions',
      String(partitions),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TIDEMARK_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' },
    },
  );
  await new Promise<void>((ready, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Press Ctrl-C')) ready();
    });
    child.once('exit', (code) => fail(new Error(`tidemark up exited (${code})`)));
  });
  const endpoints = JSON.parse(await readFile(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
  return { child, endpoints };
}

/** Runs `worker` from `concurrency` loops for `seconds`; each call is one timed operation. */
async function load(
  concurrency: number,
  seconds: number,
  worker: (loop: number, iteration: number) => Promise<boolean>,
): Promise<RunResult> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        const ok = await worker(loop, i);
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const s = summarize(latencies);
  return { rate: (latencies.length - errors) / elapsed, p50: s.p50, p99: s.p99, errors };
}

/** One aggregate per loop and iteration block: the first command publishes, the next ones change the price. */
function commandFor(run: string, loop: number, iteration: number, perAggregate: number) {
  const aggregate = `${run}-${loop}-${Math.floor(iteration / perAggregate)}`;
  const step = iteration % perAggregate;
  return { aggregate, step };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '1,16,64' },
      seconds: { type: 'string', default: '10' },
      partitions: { type: 'string', default: '8' },
      'processor-mode': { type: 'string', default: 'child' },
      'projector-mode': { type: 'string', default: 'off' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'write-path.bench: gateway vs Emmett appendToStream vs raw INSERT\n' +
        '  --concurrency 1,16,64 --seconds 10 --partitions 8\n' +
        '  --processor-mode child|in-process (default child: its own process, as deployed)\n' +
        '  --projector-mode off|child|in-process (default off: the write path alone, like the peer)\n',
    );
    return;
  }
  const concurrencies = values.concurrency.split(',').map(Number);
  const seconds = Number(values.seconds);
  const perAggregate = 5; // 1 publish + 4 price changes per aggregate

  const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-write-bench-'));
  await chmod(dataDir, 0o755);
  const platform = await startPlatform(dataDir, Number(values.partitions), {
    processor: values['processor-mode'],
    projectors: values['projector-mode'],
  });
  const gateway = new URL(platform.endpoints.gateway);
  const eventStore = getPostgreSQLEventStore(platform.endpoints.postgres);
  const pool = new pg.Pool({
    connectionString: platform.endpoints.postgres,
    max: Math.max(...concurrencies),
  });
  pool.on('error', () => undefined);
  await pool.query(
    'create table if not exists raw_events (id bigserial primary key, stream text not null, version int not null, data jsonb not null)',
  );

  const rows: string[] = [];
  try {
    for (const concurrency of concurrencies) {
      const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
      const post = (body: string) =>
        new Promise<number>((done) => {
          const req = request(
            {
              agent,
              host: gateway.hostname,
              port: gateway.port,
              method: 'POST',
              path: '/v1/contexts/listings/commands',
              headers: {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(body),
                authorization: `Bearer ${platform.endpoints.apiKey}`,
              },
            },
            (res) => {
              res.resume();
              res.on('end', () => done(res.statusCode ?? 0));
            },
          );
          req.on('error', () => done(0));
          req.end(body);
        });
      // Warm-up (JIT, connections, first takeover of partitions).
      await load(concurrency, 1, (loop, i) =>
        post(
          JSON.stringify({
            type: 'PublishListing',
            aggregateId: `warm-${concurrency}-${loop}-${i}`,
            payload: publishPayload(i),
          }),
        ).then((s) => s === 200),
      );

      const tidemark = await load(concurrency, seconds, async (loop, i) => {
        const { aggregate, step } = commandFor(`t${concurrency}`, loop, i, perAggregate);
        const body =
          step === 0
            ? {
                type: 'PublishListing',
                aggregateId: aggregate,
                expectedVersion: 'new',
                payload: publishPayload(i),
              }
            : {
                type: 'ChangePrice',
                aggregateId: aggregate,
                expectedVersion: step,
                payload: { priceCents: 9_000 + step },
              };
        return (await post(JSON.stringify(body))) === 200;
      });

      const emmett = await load(concurrency, seconds, async (loop, i) => {
        const { aggregate, step } = commandFor(`e${concurrency}`, loop, i, perAggregate);
        const event =
          step === 0
            ? { type: 'ListingPublished', data: publishPayload(i) }
            : {
                type: 'PriceChanged',
                data: {
                  sellerId: `seller-${i % 100}`,
                  priceCents: 9_000 + step,
                  previousPriceCents: 9_000,
                  currency: 'EUR',
                },
              };
        try {
          await eventStore.appendToStream(`listing-${aggregate}`, [event], {
            expectedStreamVersion: step === 0 ? STREAM_DOES_NOT_EXIST : BigInt(step),
          });
          return true;
        } catch {
          return false;
        }
      });

      const raw = await load(concurrency, seconds, async (loop, i) => {
        try {
          await pool.query('insert into raw_events (stream, version, data) values ($1, $2, $3)', [
            `listing-r${concurrency}-${loop}-${Math.floor(i / perAggregate)}`,
            (i % perAggregate) + 1,
            JSON.stringify(publishPayload(i)),
          ]);
          return true;
        } catch {
          return false;
        }
      });

      agent.destroy();
      const line =
        `| ${concurrency} | ${fmt(tidemark.rate, 0)} | ${fmt(tidemark.p50)} | ${fmt(tidemark.p99)} | ${fmt(emmett.rate, 0)} | ${fmt(emmett.p50)} | ${fmt(emmett.p99)} | ` +
        `${fmt(raw.rate, 0)} | ${fmt(tidemark.rate / emmett.rate, 2)} | ${tidemark.errors}/${emmett.errors}/${raw.errors} |`;
      rows.push(line);
      process.stdout.write(`${line}\n`);
    }
  } finally {
    await eventStore.close();
    await pool.end();
    await new Promise<void>((done) => {
      platform.child.once('exit', () => done());
      platform.child.kill('SIGINT');
    });
    await rm(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      '',
      `Write path: ${seconds} s per measurement, ${values.partitions} partitions, processor ${values['processor-mode']}, projectors ${values['projector-mode']}, 1 publish + ${perAggregate - 1} price changes per aggregate`,
      '',
      '| concurrency | Tidemark cmd/s | p50 ms | p99 ms | Emmett append/s | p50 ms | p99 ms | raw INSERT/s | Tidemark / Emmett | errors T/E/R |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
