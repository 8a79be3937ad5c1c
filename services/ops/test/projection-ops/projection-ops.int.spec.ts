/**
 * ProjectionOps, the CLI and the admin API on a real platform (embedded broker, Postgres, the listings processor,
 * gateway, projectors, query API and admin API): replay builds a version beside the active one and ends live
 * (and resumes after being stopped), diff finds it equal, cutover refuses a lagging version unless forced,
 * retire refuses the active version, rollback switches back, and the admin API answers with its status codes and
 * records the key id as the actor.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ProjectionControl } from '@tidemark/projection-runtime';
import { createPostgresProjectionControl } from '@tidemark/projection-runtime';
import pino from 'pino';
import { ProjectionCatalog } from '../../src/catalog';
import type { Platform } from '../../src/platform';
import { startPlatform } from '../../src/platform';
import type { ReplayProgress } from '../../src/projection-ops';
import { ProjectionOps, ProjectionOpsError } from '../../src/projection-ops';
import { repoDeployment } from '../support/deployment';

const CLI = resolve(__dirname, '../../../bin/tidemark.js');
const CATALOG = resolve(__dirname, '../support/listing-detail-versions.js');
const PARTITIONS = 4;
const DETAIL = 'listing-detail';
const OPS_KEY = { id: 'ops-team', secret: 'ops-team-secret-0001', scopes: ['admin'] };
const READER_KEY = { id: 'reader', secret: 'reader-secret-00001', scopes: ['queries:read:listings'] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<ProjectionOpsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProjectionOpsError, `expected ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

describe('projection operations on a running platform', () => {
  let dataDir: string;
  let platform: Platform;
  let control: ProjectionControl;
  let ops: ProjectionOps;
  let commands = 0;

  const logger = pino({ level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' }, pino.destination(2));

  async function publish(count: number): Promise<void> {
    const batch = Array.from({ length: count }, () => commands++);
    for (let i = 0; i < batch.length; i += 20) {
      await Promise.all(
        batch.slice(i, i + 20).map(async (n) => {
          const response = await fetch(`${platform.gateway.url}/v1/contexts/listings/commands`, {
            method: 'POST',
            headers: { authorization: `Bearer ${platform.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              type: 'PublishListing',
              aggregateId: `ops-listing-${n}`,
              expectedVersion: 'new',
              payload: {
                sellerId: `seller-${n % 7}`,
                title: `Bike ${n}`,
                description: 'Steel frame',
                category: n % 3 === 0 ? 'vintage' : 'bikes',
                priceCents: 1000 + n,
                currency: 'EUR',
                location: { country: 'NL', city: 'Utrecht' },
              },
            }),
          });
          assert.equal(response.status, 200, await response.text());
        }),
      );
    }
  }

  async function admin(
    method: string,
    path: string,
    key: { secret: string } | null,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${platform.admin?.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key.secret}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolveRun) => {
      const child = spawn(
        process.execPath,
        [
          CLI,
          ...args,
          '--endpoints',
          join(dataDir, 'endpoints.json'),
          '--catalog',
          CATALOG,
          '--actor',
          'cli-test',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
    });
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tidemark-ops-'));
    await chmod(dataDir, 0o755);
    const deployment = await repoDeployment();
    platform = await startPlatform({
      deployment,
      dataDir,
      logger,
      components: ['broker', 'postgres'],
      ports: { broker: 0, postgres: 0 },
      metricsPort: null,
      partitions: PARTITIONS,
      catalogModule: CATALOG,
      writeEndpoints: true,
      processor: { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300 },
      gateway: { apiKeys: [OPS_KEY, READER_KEY] },
    });
    assert.ok(platform.admin, 'the platform runs the admin API');
    control = createPostgresProjectionControl({
      connectionString: platform.endpoints.postgres as string,
      logger,
    });
    ops = new ProjectionOps({
      brokers: [platform.endpoints.broker as string],
      stores: { postgres: platform.endpoints.postgres as string },
      partitions: PARTITIONS,
      catalog: await ProjectionCatalog.load(deployment, CATALOG),
      deployment,
      context: 'listings',
      control,
      logger,
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 300,
      pollIntervalMs: 100,
    });
    await publish(200);
  });

  after(async () => {
    await ops?.close();
    await control?.close();
    await platform?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('replay builds version 2 beside the active version 1 under traffic, resumes after a stop, and ends live', async () => {
    // A first run, throttled and stopped part-way: the version stays building.
    const abort = new AbortController();
    const seen: ReplayProgress[] = [];
    const traffic = publish(60);
    const stopped = await ops.replay({
      projection: DETAIL,
      version: 2,
      actor: 'test',
      reason: 'rebuild',
      maxEventsPerSecond: 100,
      signal: abort.signal,
      onProgress: (progress) => {
        seen.push(progress);
        if (progress.appliedEvents >= 40) abort.abort();
      },
    });
    await traffic;
    assert.equal(stopped.status, 'stopped');
    const stoppedAt = stopped.appliedEvents;
    assert.ok(stoppedAt >= 40, `applied ${stoppedAt} before the stop`);
    assert.ok(seen.some((p) => p.lag > 0 && p.partitions.length === PARTITIONS));
    const building = (await control.list()).find((r) => r.projection === DETAIL && r.version === 2);
    assert.equal(building?.state, 'building');
    // Not live: neither a cutover nor a shadow read may go to it.
    await rejectsWith(ops.cutover({ projection: DETAIL, to: 2, actor: 'test' }), 'VERSION_NOT_LIVE');

    const more = publish(40);
    const done = await ops.replay({ projection: DETAIL, version: 2, actor: 'test' });
    await more;
    assert.equal(done.status, 'live');
    const progress = done.progress;
    assert.ok(progress);
    // Live means caught up with a recent log end (traffic goes on): at least everything the first run had seen.
    assert.ok(stopped.progress);
    assert.ok(
      progress.checkpointTotal >= stopped.progress.logEndTotal,
      `${progress.checkpointTotal} < ${stopped.progress.logEndTotal}`,
    );
    // It resumed from the checkpoints: the second run applied only what the first did not.
    assert.ok(
      done.appliedEvents > 0 && done.appliedEvents <= progress.checkpointTotal - stoppedAt,
      `second run ${done.appliedEvents}, first ${stoppedAt}, total ${progress.checkpointTotal}`,
    );
    const live = (await control.list()).find((r) => r.projection === DETAIL && r.version === 2);
    assert.equal(live?.state, 'live');
    assert.equal(await control.activeVersion('listings', DETAIL), 1);
    assert.equal(
      (await ops.replay({ projection: DETAIL, version: 2, actor: 'test' })).status,
      'already-live',
    );
    await rejectsWith(ops.replay({ projection: DETAIL, version: 7, actor: 'test' }), 'UNKNOWN_VERSION');
    await rejectsWith(ops.replay({ projection: 'no-such', version: 2, actor: 'test' }), 'UNKNOWN_PROJECTION');
  });

  test('diff of two versions of the same code finds no difference (CLI: exit 0, --json)', async () => {
    const result = await ops.diff({ projection: DETAIL, a: 1, b: 2 });
    assert.ok(result.compared >= 200, `compared ${result.compared}`);
    assert.equal(result.differing + result.onlyInA + result.onlyInB, 0, JSON.stringify(result.sample));
    assert.equal(result.unknown, 0);
    assert.equal(result.counts.a, result.counts.b);
    assert.equal(Object.keys(result.watermark).length, PARTITIONS);
    const run = await cli(['diff', DETAIL, '1', '2', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { differing: number; compared: number };
    assert.equal(printed.differing, 0);
    assert.ok(printed.compared >= 200);
    const list = await cli(['projections', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const projections = JSON.parse(list.stdout) as {
      projection: string;
      versions: { version: number; state: string; active: boolean }[];
    }[];
    const detail = projections.find((p) => p.projection === DETAIL);
    assert.deepEqual(
      detail?.versions.map((v) => [v.version, v.state, v.active]),
      [
        [1, 'live', true],
        [2, 'live', false],
        [3, 'unregistered', false],
      ],
    );
  });

  test('cutover refuses a lagging version (CUTOVER_LAGGING) unless forced; rollback switches back', async () => {
    // Version 9 is live in the control table but no code runs it (not in the catalog): it stays empty.
    await control.register(
      { context: 'listings', name: DETAIL, version: 9, store: 'postgres' },
      { state: 'live' },
    );
    const refused = await rejectsWith(
      ops.cutover({ projection: DETAIL, to: 9, actor: 'test' }),
      'CUTOVER_LAGGING',
    );
    assert.ok(Array.isArray(refused.details?.lagging) && (refused.details.lagging as unknown[]).length > 0);
    const cli9 = await cli(['cutover', DETAIL, '--to', '9']);
    assert.equal(cli9.code, 1);
    assert.match(cli9.stderr, /^tidemark cutover: CUTOVER_LAGGING: /m);

    const forced = await ops.cutover({
      projection: DETAIL,
      to: 9,
      force: true,
      actor: 'test',
      reason: 'drill',
    });
    assert.equal(forced.forced, true);
    assert.equal(await control.activeVersion('listings', DETAIL), 9);
    const [entry] = await ops.audit({ limit: 1 });
    assert.equal(entry?.action, 'cutover');
    assert.equal(entry?.details.forced, true);
    assert.equal(entry?.reason, 'drill');

    const back = await ops.rollback({ projection: DETAIL, actor: 'test' });
    assert.deepEqual([back.from, back.to], [9, 1]);
    assert.equal(await control.activeVersion('listings', DETAIL), 1);
    await ops.retire({ projection: DETAIL, version: 9, graceMs: 0, actor: 'test' });
  });

  test('cutover to the replayed version, retire refuses the active one, rollback, retire drops the other', async () => {
    await rejectsWith(ops.cutover({ projection: DETAIL, to: 1, actor: 'test' }), 'ALREADY_ACTIVE');
    // The projector service runs v2 now; it covers v1 once it has caught up with the traffic.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await ops.cutover({ projection: DETAIL, to: 2, actor: 'test', reason: 'fixed code' });
        break;
      } catch (error) {
        if (
          !(error instanceof ProjectionOpsError) ||
          error.code !== 'CUTOVER_LAGGING' ||
          Date.now() > deadline
        )
          throw error;
        await sleep(100);
      }
    }
    const route = await control.route('listings', DETAIL);
    assert.deepEqual([route?.active, route?.previous], [2, 1]);
    await rejectsWith(ops.retire({ projection: DETAIL, version: 2, actor: 'test' }), 'VERSION_ACTIVE');
    const cliRetire = await cli(['retire', DETAIL, '--version', '2', '--grace', '0']);
    assert.equal(cliRetire.code, 1);
    assert.match(cliRetire.stderr, /VERSION_ACTIVE/);

    const rollback = await cli(['rollback', DETAIL, '--reason', 'rehearsal']);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(rollback.stdout, /v2 -> v1/);
    assert.equal(await control.activeVersion('listings', DETAIL), 1);

    const retired = await ops.retire({ projection: DETAIL, version: 2, graceMs: 0, actor: 'test' });
    assert.equal(retired.dropped, true);
    const row = (await control.list()).find((r) => r.projection === DETAIL && r.version === 2);
    assert.equal(row?.state, 'retired');
    assert.ok(row?.droppedAt);
    await rejectsWith(ops.replay({ projection: DETAIL, version: 2, actor: 'test' }), 'VERSION_RETIRED');
    await rejectsWith(ops.cutover({ projection: DETAIL, to: 2, actor: 'test' }), 'VERSION_NOT_LIVE');

    const audit = await cli(['audit', '--limit', '50']);
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /cli-test {2}rollback {2}listing-detail v1 {2}"rehearsal"/);
    const actions = (await ops.audit({ limit: 100 })).map((e) => e.action);
    for (const action of ['replay', 'replay.complete', 'cutover', 'rollback', 'retire', 'retire.drop'])
      assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
  });

  test('admin API: 401 without a key, 403 without the admin scope, 400/404/409 codes, replay jobs, audit actor', async () => {
    assert.equal((await admin('GET', '/v1/admin/projections', null)).status, 401);
    const forbidden = await admin('GET', '/v1/admin/projections', READER_KEY);
    assert.equal(forbidden.status, 403);
    assert.equal((forbidden.body.error as { code: string }).code, 'FORBIDDEN');
    const listed = await admin('GET', '/v1/admin/projections', OPS_KEY);
    assert.equal(listed.status, 200);
    assert.ok((listed.body.projections as { projection: string }[]).some((p) => p.projection === DETAIL));

    const code = (answer: { body: Record<string, unknown> }) => (answer.body.error as { code: string }).code;
    const bad = await admin('POST', `/v1/admin/projections/${DETAIL}/cutover`, OPS_KEY, { to: 'two' });
    assert.deepEqual([bad.status, code(bad)], [400, 'INVALID_REQUEST']);
    const malformed = await admin('POST', `/v1/admin/projections/${DETAIL}/cutover`, OPS_KEY, '{nope');
    assert.deepEqual([malformed.status, code(malformed)], [400, 'MALFORMED_JSON']);
    const unknown = await admin('POST', '/v1/admin/projections/no-such/retire', OPS_KEY, { version: 1 });
    assert.deepEqual([unknown.status, code(unknown)], [404, 'UNKNOWN_PROJECTION']);
    const active = await admin('POST', `/v1/admin/projections/${DETAIL}/retire`, OPS_KEY, { version: 1 });
    assert.deepEqual([active.status, code(active)], [409, 'VERSION_ACTIVE']);
    const notLive = await admin('POST', `/v1/admin/projections/${DETAIL}/cutover`, OPS_KEY, { to: 2 });
    assert.deepEqual([notLive.status, code(notLive)], [409, 'VERSION_NOT_LIVE']);
    const noVersion = await admin('GET', `/v1/admin/projections/${DETAIL}/diff?a=1&b=5`, OPS_KEY);
    assert.deepEqual([noVersion.status, code(noVersion)], [404, 'UNKNOWN_VERSION']);

    // A replay job in the background; asking again while it runs gives the same job.
    const started = await admin('POST', `/v1/admin/projections/${DETAIL}/replays`, OPS_KEY, {
      version: 3,
      reason: 'admin replay',
      maxEventsPerSecond: 150,
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.state, 'running');
    const again = await admin('POST', `/v1/admin/projections/${DETAIL}/replays`, OPS_KEY, { version: 3 });
    assert.equal(again.body.job, started.body.job);
    const deadline = Date.now() + 60_000;
    let job = started.body;
    while (job.state === 'running') {
      assert.ok(Date.now() < deadline, 'the replay job did not finish');
      await sleep(200);
      job = (await admin('GET', `/v1/admin/replays/${String(started.body.job)}`, OPS_KEY)).body;
    }
    assert.equal(job.state, 'live', JSON.stringify(job.error));
    assert.ok((job.progress as ReplayProgress).checkpointTotal > 0);
    const missing = await admin('GET', '/v1/admin/replays/nope', OPS_KEY);
    assert.deepEqual([missing.status, code(missing)], [404, 'JOB_NOT_FOUND']);

    const diff = await admin('GET', `/v1/admin/projections/${DETAIL}/diff?a=1&b=3&sample=5`, OPS_KEY);
    assert.equal(diff.status, 200);
    assert.equal(diff.body.differing, 0);

    const entries = (await admin('GET', '/v1/admin/audit?limit=10', OPS_KEY)).body.entries as {
      actor: string;
      action: string;
      version: number;
      reason: string | null;
    }[];
    const replay = entries.find((e) => e.action === 'replay' && e.version === 3);
    assert.deepEqual([replay?.actor, replay?.reason], ['ops-team', 'admin replay']);
    assert.ok(entries.some((e) => e.action === 'replay.complete' && e.actor === 'ops-team'));

    const health = await fetch(`${platform.admin?.url}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`${platform.admin?.url}/metrics`)).text();
    assert.match(metrics, /tidemark_admin_actions_total\{action="retire",outcome="VERSION_ACTIVE"\} 1/);
    const openapi = (await (await fetch(`${platform.admin?.url}/openapi.json`)).json()) as { paths: object };
    assert.ok('/v1/admin/projections/{name}/cutover' in openapi.paths);
  });
});
