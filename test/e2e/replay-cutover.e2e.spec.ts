/**
 * Issue 6, must show: the replay-and-cutover scenario on every store. Version 1 of each listings projection has
 * a deliberate bug (prices of the category 'vintage' stored in euros instead of cents; test/support/
 * price-bug-catalog.ts) and runs under live command load. Version 2, the fix, is replayed beside it with the
 * `tidemark` CLI (each replay is SIGKILLed halfway and resumed); `tidemark diff` must report exactly the
 * documents the bug affected (checked against folds of the log with both versions' code); cutover happens while
 * reader loops with tokens run (no error, no stale answer, watermarks never decrease), and rollback the same
 * way. Cutover is refused while the new version lags, retire is refused for the active version, and the
 * listing-sold side effects are recorded once each, whichever version was active.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { PartitionReader } from '@tidemark/kafka';
import { listingsContext } from '@tidemark/listings';
import {
  LISTING_CARD_PROJECTION,
  LISTING_DETAIL_PROJECTION,
  LISTING_SEARCH_PROJECTION,
  SELLER_STATS_PROJECTION,
} from '@tidemark/listings-projections';
import { openSink } from '@tidemark/ops';
import type { ProjectionDefinition, Sink } from '@tidemark/projection-runtime';
import { decodeToken } from '@tidemark/schemas';
import { canonicalJson } from '@tidemark/sdk/testing';
import pg from 'pg';
import { compareWithFold, foldLog } from '../support/fold';
import { LiveLoad } from '../support/live-load';
import type { LoggedEvent } from '../support/log';
import { readEventsLog } from '../support/log';
import type { HttpAnswer } from '../support/platform';
import { postCommand, publishPayload, startTestPlatform, TEST_PARTITIONS } from '../support/platform';
import { BUGGY_CATEGORY, misreadPrice, versionsOf } from '../support/price-bug-catalog';

const CLI = resolve(__dirname, '../../../services/ops/bin/tidemark.js');
const CATALOG = resolve(__dirname, '../support/price-bug-catalog.js');
const PROJECTIONS = [
  LISTING_DETAIL_PROJECTION,
  SELLER_STATS_PROJECTION,
  LISTING_CARD_PROJECTION,
  LISTING_SEARCH_PROJECTION,
] as const;
type ProjectionName = (typeof PROJECTIONS)[number];
const STORE: Record<ProjectionName, string> = {
  [LISTING_DETAIL_PROJECTION]: 'Postgres',
  [SELLER_STATS_PROJECTION]: 'Redis',
  [LISTING_CARD_PROJECTION]: 'memcached',
  [LISTING_SEARCH_PROJECTION]: 'Elasticsearch',
};
const INITIAL_COMMANDS = Number(process.env.REPLAY_E2E_COMMANDS ?? 2_500);
/** Reads each reader loop makes before, between and after the switches. */
const READS_PER_PHASE = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describe('replay and cutover of a buggy projection on every store', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let load: LiveLoad;
  let query: string;
  const sinks = new Map<string, Sink>();

  const endpointsFile = () => resolve(platform.dataDir, 'endpoints.json');
  const stores = () => ({
    postgres: platform.endpoints.postgres as string,
    redis: platform.endpoints.redis,
    memcached: platform.endpoints.memcached,
    elasticsearch: platform.endpoints.search,
  });
  const sinkOf = (definition: ProjectionDefinition): Sink => {
    const id = `${definition.name}.v${definition.version}`;
    let sink = sinks.get(id);
    if (!sink) {
      sink = openSink(definition, stores(), TEST_PARTITIONS);
      sinks.set(id, sink);
    }
    return sink;
  };

  function startCli(args: string[]): { child: ChildProcess; done: Promise<CliRun> } {
    const child = spawn(
      process.execPath,
      [CLI, ...args, '--endpoints', endpointsFile(), '--catalog', CATALOG, '--actor', 'e2e'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TIDEMARK_LOG_LEVEL: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.length > 50_000) stderr = stderr.slice(-20_000);
    });
    const done = new Promise<CliRun>((resolveRun) => {
      child.on('exit', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
    });
    return { child, done };
  }
  const cli = (args: string[]) => startCli(args).done;

  /** Sum over partitions of a sink's checkpoints. */
  const applied = async (definition: ProjectionDefinition) => {
    let sum = 0;
    for (const offset of (await sinkOf(definition).checkpoints()).values()) sum += offset;
    return sum;
  };

  /** Sum over partitions of the events topic's log end offsets. */
  const logEndSum = async () => {
    const reader = PartitionReader.create([platform.endpoints.broker as string]);
    try {
      let sum = 0;
      for (let p = 0; p < TEST_PARTITIONS; p++) sum += await reader.endOffset('listings.events', p);
      return sum;
    } finally {
      reader.close();
    }
  };

  /** The upcast log (payloads at their latest schema version), as projectors see it. */
  const upcastLog = async (): Promise<LoggedEvent[]> =>
    (await readEventsLog(platform.endpoints.broker as string, 'listings', TEST_PARTITIONS)).map((e) => ({
      ...e,
      event: {
        ...e.event,
        payload: listingsContext.events.read(e.event.type, e.event.schemaVersion, e.event.payload),
      },
    }));

  /** Waits until both versions' checkpoints reach the log end on every partition (the load is paused). */
  async function settle(name: ProjectionName, ends: Map<number, number>): Promise<void> {
    const { buggy, fixed } = versionsOf(name);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [a, b] = await Promise.all([sinkOf(buggy).checkpoints(), sinkOf(fixed).checkpoints()]);
      if ([...ends].every(([p, end]) => (a.get(p) ?? 0) >= end && (b.get(p) ?? 0) >= end)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${name}: versions did not reach the log end: ${JSON.stringify([...a])} ${JSON.stringify([...b])}`,
        );
      }
      await sleep(100);
    }
  }

  before(async () => {
    platform = await startTestPlatform({
      components: ['broker', 'postgres', 'redis', 'memcached', 'search'],
      catalogModule: CATALOG,
      writeEndpoints: true,
    });
    assert.ok(platform.endpoints.query);
    query = platform.endpoints.query;
    load = new LiveLoad({
      gateway: platform.endpoints.gateway,
      apiKey: platform.apiKey,
      clients: 8,
      runId: 'rc',
      categories: [BUGGY_CATEGORY, 'bikes', 'cars'],
    }).start();
    await load.waitForAnswered(INITIAL_COMMANDS);
  });

  after(async () => {
    await load?.stop();
    for (const sink of sinks.values()) await sink.close().catch(() => undefined);
    await platform?.close();
  });

  it('replays version 2 of every projection beside version 1 under live load; a replay SIGKILLed halfway resumes', async (t) => {
    await Promise.all(
      PROJECTIONS.map(async (name) => {
        const { fixed } = versionsOf(name);
        // Throttled so that there is a "halfway" to kill it at.
        const first = startCli([
          'replay',
          name,
          '--version',
          '2',
          '--no-progress',
          '--max-events-per-second',
          '2000',
        ]);
        const total = await logEndSum();
        const deadline = Date.now() + 60_000;
        while ((await applied(fixed).catch(() => 0)) < total / 2) {
          assert.ok(Date.now() < deadline, `${name}: the replay did not get halfway`);
          await sleep(50);
        }
        first.child.kill('SIGKILL');
        const killed = await first.done;
        assert.equal(killed.signal, 'SIGKILL', `${name}: ${killed.stderr}`);
        const atKill = await applied(fixed);
        assert.ok(atKill > 0, `${name}: nothing was applied before the kill`);

        // A version that lags is never switched to.
        const refused = await cli(['cutover', name, '--to', '2', '--wait', '1s']);
        assert.equal(refused.code, 1, `${name}: cutover to a lagging version must fail: ${refused.stdout}`);
        assert.match(refused.stderr, /CUTOVER_LAGGING|VERSION_NOT_LIVE/);

        const second = await cli(['replay', name, '--version', '2', '--no-progress']);
        assert.equal(second.code, 0, `${name}: ${second.stderr}`);
        const summary = /replay \S+ v2 live: ([\d,]+) events/.exec(second.stdout);
        assert.ok(summary, `${name}: no summary line in ${JSON.stringify(second.stdout)}`);
        const resumedEvents = Number((summary[1] as string).replaceAll(',', ''));
        // It went on from the checkpoints: it did not apply the first half again.
        const end = await logEndSum();
        assert.ok(
          resumedEvents > 0 && resumedEvents <= end - atKill,
          `${name}: the resumed run applied ${resumedEvents} events; ${atKill} of ${end} offsets were applied before the kill`,
        );
        t.diagnostic(
          `${name} (${STORE[name]}): killed after ${atKill} events, the resumed run applied ${resumedEvents} more`,
        );
      }),
    );
    // Retire refuses the active version.
    const retire = await cli(['retire', LISTING_DETAIL_PROJECTION, '--version', '1', '--grace', '0']);
    assert.equal(retire.code, 1, retire.stdout);
    assert.match(retire.stderr, /VERSION_ACTIVE/);
  });

  it('diff reports exactly the documents the bug affected, on every store', async (t) => {
    await load.pause();
    try {
      const log = await upcastLog();
      const ends = new Map<number, number>();
      for (const e of log) ends.set(e.partition, Math.max(ends.get(e.partition) ?? 0, e.offset + 1));
      for (const name of PROJECTIONS) {
        await settle(name, ends);
        const { buggy, fixed } = versionsOf(name);
        // Expected: the keys whose fold differs between the buggy and the fixed code.
        const foldA = foldLog(buggy, log);
        const foldB = foldLog(fixed, log);
        const expected = new Set<string>();
        for (const [partition, docs] of foldB) {
          for (const [key, doc] of docs) {
            const other = foldA.get(partition)?.get(key) ?? null;
            if (canonicalJson(doc) !== canonicalJson(other)) expected.add(`${partition}/${key}`);
          }
        }
        // Each version equals the fold of the log with its own code (the fixed one was SIGKILLed and resumed).
        for (const [definition, fold] of [
          [buggy, foldA],
          [fixed, foldB],
        ] as const) {
          const { differences } = await compareWithFold(sinkOf(definition), fold);
          assert.deepEqual(differences.slice(0, 3), [], `${name} v${definition.version} equals its fold`);
        }
        assert.ok(
          expected.size > 0,
          `${name}: the bug affected no document (the test data has none in ${BUGGY_CATEGORY})`,
        );
        const run = await cli(['diff', name, '1', '2', '--json', '--sample', '1000000']);
        assert.equal(run.code, 1, `${name}: diff must exit 1 when versions differ: ${run.stderr}`);
        const result = JSON.parse(run.stdout) as {
          differing: number;
          sample: { key: string; partition: number; differences: { path: string }[] }[];
          moving: number;
          unknown: number;
        };
        const reported = new Set(result.sample.map((d) => `${d.partition}/${d.key}`));
        assert.equal(result.moving, 0, `${name}: nothing moves while the load is paused`);
        if (name !== LISTING_CARD_PROJECTION) assert.equal(result.unknown, 0);
        assert.deepEqual([...reported].sort(), [...expected].sort(), `${name}: differing documents`);
        assert.equal(result.differing, expected.size);
        for (const d of result.sample) {
          assert.ok(
            d.differences.every((f) => /price|asking|Cents/i.test(f.path)),
            `${name}: only prices differ, got ${JSON.stringify(d.differences)}`,
          );
        }
        t.diagnostic(`${name} (${STORE[name]}): ${expected.size} documents differ, as the folds say`);
      }
      // Versions of the same code compare equal (exit 0).
      const same = await cli(['diff', LISTING_DETAIL_PROJECTION, '2', '2', '--json']);
      assert.equal(same.code, 0, same.stderr);
    } finally {
      load.resume();
    }
  });

  // The four stores' switches run side by side (each has its own reader loop); each is its own subtest.
  it('cutover and rollback under reader loops with tokens, on every store', {
    concurrency: PROJECTIONS.length,
  }, async (outer) => {
    await Promise.all(
      PROJECTIONS.map((name) =>
        outer.test(`${STORE[name]} (${name})`, async (t) => {
          const loop = new ReaderLoop(platform.endpoints.gateway, query, platform.apiKey, name);
          const running = loop.run();
          try {
            await loop.waitForReads(READS_PER_PHASE);
            const cut = await cli(['cutover', name, '--to', '2', '--reason', 'fix vintage prices']);
            assert.equal(cut.code, 0, cut.stderr);
            await loop.waitForVersion(2);
            await loop.waitForReads(loop.reads + READS_PER_PHASE);
            if (name === LISTING_SEARCH_PROJECTION) {
              const es = new ElasticsearchClient({ node: platform.endpoints.search as string });
              const alias = await es.indices.getAlias({ name: 'tm-listings-listing-search' });
              assert.deepEqual(Object.keys(alias), ['tm-listings-listing-search-v2']);
              await es.close();
            }
            const back = await cli(['rollback', name, '--reason', 'rehearsal']);
            assert.equal(back.code, 0, back.stderr);
            await loop.waitForVersion(1);
            await loop.waitForReads(loop.reads + READS_PER_PHASE);
          } finally {
            loop.stop();
            await running;
          }
          t.diagnostic(
            `${name}: ${loop.reads} reads (${loop.byVersion.get(1) ?? 0} from v1, ${loop.byVersion.get(2) ?? 0} from v2)`,
          );
          assert.deepEqual(loop.errors, [], 'no error');
          assert.equal(loop.stale, 0, 'no stale answer');
          assert.equal(loop.decreases, 0, 'watermarks never decrease');
          assert.ok((loop.byVersion.get(2) ?? 0) > 0 && (loop.byVersion.get(1) ?? 0) > 0);
        }),
      ),
    );
  });

  it('every listing-sold side effect is recorded exactly once, whichever version was active', async () => {
    await load.pause();
    try {
      const log = await upcastLog();
      const sold = log.filter((e) => e.event.type === 'ListingSold').map((e) => `${e.partition}/${e.offset}`);
      assert.ok(sold.length > 0);
      const client = new pg.Client({ connectionString: platform.endpoints.postgres as string });
      await client.connect();
      try {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const rows = await client.query<{ partition: number; offset: string; version: number }>(
            `select partition, "offset", version from tidemark_side_effects
              where context = 'listings' and projection = $1`,
            [LISTING_DETAIL_PROJECTION],
          );
          const recorded = rows.rows.map((r) => `${r.partition}/${r.offset}`);
          if (recorded.length >= sold.length || Date.now() > deadline) {
            assert.deepEqual([...recorded].sort(), [...sold].sort());
            // Both versions were active at some point and recorded some; neither repeated the other's.
            assert.equal(new Set(recorded).size, recorded.length);
            break;
          }
          await sleep(200);
        }
      } finally {
        await client.end();
      }
    } finally {
      load.resume();
    }
  });

  it('retire drops the targets of a version that is not active', async () => {
    const run = await cli(['retire', LISTING_DETAIL_PROJECTION, '--version', '2', '--grace', '0']);
    assert.equal(run.code, 0, run.stderr);
    const checkpoints = await sinkOf(versionsOf(LISTING_DETAIL_PROJECTION).fixed).checkpoints();
    assert.equal(checkpoints.size, 0, 'the retired version has no checkpoints left');
    const list = await cli(['projections', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /retired/);
    const audit = await cli(['audit', '--limit', '100']);
    assert.equal(audit.code, 0, audit.stderr);
    for (const action of ['replay', 'cutover', 'rollback', 'retire'])
      assert.match(audit.stdout, new RegExp(action));
  });
});

/**
 * A client that publishes a listing in the buggy category (its own seller), then reads the projection's view with
 * the command's token, and checks the answer against what it wrote as the answering version shows it (v1 shows the
 * misread price, v2 the right one). It tracks the response tokens: no partition's position may go backwards.
 */
class ReaderLoop {
  reads = 0;
  stale = 0;
  decreases = 0;
  readonly errors: string[] = [];
  readonly byVersion = new Map<number, number>();
  private stopped = false;
  private readonly seen = new Map<number, number>();
  private readonly seller: string;
  private published: { id: string; price: number; word: string }[] = [];

  constructor(
    private readonly gateway: string,
    private readonly query: string,
    private readonly apiKey: string,
    private readonly projection: ProjectionName,
  ) {
    this.seller = `reader-${projection}-${Date.now().toString(36)}`;
  }

  stop(): void {
    this.stopped = true;
  }

  async waitForReads(count: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (this.reads < count && !this.stopped) {
      if (this.errors.length > 0) throw new Error(`reader failed: ${this.errors[0]}`);
      if (Date.now() > deadline) throw new Error(`only ${this.reads} reads`);
      await sleep(20);
    }
  }

  async waitForVersion(version: number): Promise<void> {
    const before = this.byVersion.get(version) ?? 0;
    const deadline = Date.now() + 30_000;
    while ((this.byVersion.get(version) ?? 0) <= before) {
      if (this.errors.length > 0) throw new Error(`reader failed: ${this.errors[0]}`);
      if (Date.now() > deadline) throw new Error(`reads never came from version ${version}`);
      await sleep(20);
    }
  }

  async run(): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const word = `rq${this.projection.replaceAll('-', '')}x${i}x${Date.now().toString(36)}`;
      const id = `${this.seller}-${i}`;
      const price = 10_000 + i * 37;
      const command = await postCommand(this.gateway, this.apiKey, 'listings', {
        type: 'PublishListing',
        aggregateId: id,
        expectedVersion: 'new',
        payload: { ...publishPayload(this.seller, price, BUGGY_CATEGORY), title: `Vintage frame ${word}` },
      });
      if (command.status !== 200) {
        this.errors.push(`command ${command.status} ${JSON.stringify(command.body)}`);
        return;
      }
      this.published.push({ id, price, word });
      const token = command.body.token as string;
      const answer = await this.read(id, word, token);
      this.reads++;
      if (answer.status !== 200) {
        this.errors.push(`read ${answer.status} ${JSON.stringify(answer.body)}`);
        return;
      }
      const version = Number(answer.headers.get('consistency-version'));
      this.byVersion.set(version, (this.byVersion.get(version) ?? 0) + 1);
      if (answer.body.stale === true || !this.fresh(answer, version, id, price)) this.stale++;
      for (const [partition, offset] of decodeToken(answer.body.token as string).positions) {
        if (offset < (this.seen.get(partition) ?? 0)) this.decreases++;
        this.seen.set(partition, Math.max(offset, this.seen.get(partition) ?? 0));
      }
    }
  }

  private async read(id: string, word: string, token: string): Promise<HttpAnswer> {
    const path = {
      [LISTING_DETAIL_PROJECTION]: `/v1/listings/${id}`,
      [LISTING_CARD_PROJECTION]: `/v1/listings/${id}/card`,
      [SELLER_STATS_PROJECTION]: `/v1/sellers/${this.seller}/stats`,
      [LISTING_SEARCH_PROJECTION]: `/v1/listings/search?q=${word}`,
    }[this.projection];
    const response = await fetch(`${this.query}${path}`, {
      headers: { authorization: `Bearer ${this.apiKey}`, 'consistency-token': token },
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }

  /** The price a version stores for a listing published at `price` in the buggy category. */
  private shown(version: number, price: number): number {
    if (version === 2) return price;
    const misread = misreadPrice({
      type: 'ListingPublished',
      payload: { category: BUGGY_CATEGORY, priceCents: price },
    } as never);
    return (misread.payload as { priceCents: number }).priceCents;
  }

  private fresh(answer: HttpAnswer, version: number, id: string, price: number): boolean {
    const data = answer.body.data as Record<string, unknown>;
    switch (this.projection) {
      case LISTING_DETAIL_PROJECTION:
      case LISTING_CARD_PROJECTION:
        return data.id === id && data.priceCents === this.shown(version, price);
      case SELLER_STATS_PROJECTION: {
        const total = this.published.reduce((sum, l) => sum + this.shown(version, l.price), 0);
        const value = data.askingValueCents as Record<string, number> | undefined;
        return data.activeListings === this.published.length && value?.EUR === total;
      }
      case LISTING_SEARCH_PROJECTION: {
        const hits = (data.hits as { id: string; listing: { priceCents: number } }[] | undefined) ?? [];
        return hits[0]?.id === id && hits[0].listing.priceCents === this.shown(version, price);
      }
    }
  }
}
