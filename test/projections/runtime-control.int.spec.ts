import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PostgresProjectionControl, ProjectionRoute } from '@tidemark/projection-runtime';
import { ControlConflictError, createPostgresProjectionControl } from '@tidemark/projection-runtime';
import pg from 'pg';
import type { Harness } from '../support/runtime-harness';
import { eventually, startHarness } from '../support/runtime-harness';

let h: Harness;
const controls: PostgresProjectionControl[] = [];

before(async () => {
  h = await startHarness();
});
after(async () => {
  await Promise.all(controls.map((c) => c.close()));
  await h?.close();
});

function control(connectionString = h.postgres): PostgresProjectionControl {
  const created = createPostgresProjectionControl({ connectionString, logger: h.logger });
  controls.push(created);
  return created;
}

function conflict(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ControlConflictError, `expected a ControlConflictError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

async function sql(connectionString: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Registers v1 (live, active) and further live versions of a fresh projection. */
async function projectionWith(c: PostgresProjectionControl, context: string, liveVersions: number[]) {
  await c.register({ context, name: 'detail', version: 1, store: 'postgres' });
  for (const version of liveVersions) {
    await c.register({ context, name: 'detail', version, store: 'postgres' }, { state: 'live' });
  }
}

describe('PostgresProjectionControl routes, states, audit and shadow reports', () => {
  test('a data directory with the old control tables is upgraded in place', async () => {
    await sql(h.postgres, 'create database legacy_control');
    const url = new URL(h.postgres);
    url.pathname = '/legacy_control';
    const legacy = url.toString();
    // The tables as the previous release created them, with a registered projection.
    await sql(
      legacy,
      `create table tidemark_projection_versions (
         context text not null, projection text not null, version integer not null, store text not null,
         state text not null, registered_at timestamptz not null default now(),
         primary key (context, projection, version));
       create table tidemark_projection_active (
         context text not null, projection text not null, active_version integer not null,
         changed_at timestamptz not null default now(), primary key (context, projection));
       insert into tidemark_projection_versions (context, projection, version, store, state)
         values ('old', 'detail', 1, 'postgres', 'live'), ('old', 'detail', 2, 'postgres', 'building');
       insert into tidemark_projection_active (context, projection, active_version) values ('old', 'detail', 1);`,
    );
    const c = control(legacy);
    const rows = await c.list();
    assert.deepEqual(
      rows.map((r) => [
        r.version,
        r.state,
        r.active,
        r.retireAfter,
        r.droppedAt,
        r.updatedAt instanceof Date,
      ]),
      [
        [1, 'live', true, null, null, true],
        [2, 'building', false, null, null, true],
      ],
    );
    const route = await c.route('old', 'detail');
    assert.equal(route?.active, 1);
    assert.equal(route?.previous, null);
    assert.equal(route?.candidate, null);
    await c.setState('old', 'detail', 2, 'live');
    await c.activate('old', 'detail', 2, { expectedActive: 1 });
    assert.equal((await c.route('old', 'detail'))?.previous, 1);
    assert.deepEqual(await c.auditLog({ context: 'old' }), []);
  });

  test('activate switches the route atomically, records the audit entry and reaches another instance', async () => {
    const admin = control();
    const reader = control();
    await projectionWith(admin, 'act', [2]);
    const seen: (ProjectionRoute | null)[] = [];
    await reader.subscribe(() => {
      void reader.route('act', 'detail').then((r) => seen.push(r));
    });
    await admin.setCandidate('act', 'detail', { version: 2, mode: 'split', percent: 10 });
    await admin.activate('act', 'detail', 2, {
      expectedActive: 1,
      audit: { actor: 'cli:test', action: 'cutover', context: 'act', projection: 'detail', version: 2 },
    });
    await eventually(() => seen.some((r) => r?.active === 2));
    const route = await reader.route('act', 'detail');
    assert.ok(route);
    assert.deepEqual(
      { active: route.active, previous: route.previous, candidate: route.candidate },
      { active: 2, previous: 1, candidate: null },
    );
    assert.equal(await reader.activeVersion('act', 'detail'), 2);
    const [entry, ...rest] = await reader.auditLog({ context: 'act', projection: 'detail' });
    assert.equal(rest.length, 0);
    assert.ok(entry);
    assert.deepEqual(
      { ...entry, id: 0, at: null },
      {
        id: 0,
        at: null,
        actor: 'cli:test',
        action: 'cutover',
        context: 'act',
        projection: 'detail',
        version: 2,
        reason: null,
        details: {},
      },
    );
    // Rollback is the same switch back to the previous version.
    await admin.activate('act', 'detail', 1, { expectedActive: 2 });
    await eventually(() => seen.at(-1)?.active === 1);
    assert.equal((await admin.route('act', 'detail'))?.previous, 2);
    assert.deepEqual(
      (await admin.routes()).filter((r) => r.context === 'act').map((r) => [r.active, r.previous]),
      [[1, 2]],
    );
  });

  test('activate refuses a changed route, an unknown, non-live or already active version; beforeCommit is atomic', async () => {
    const c = control();
    await projectionWith(c, 'ref', [2]);
    await c.register({ context: 'ref', name: 'detail', version: 3, store: 'postgres' });
    await assert.rejects(c.activate('ref', 'detail', 2, { expectedActive: 7 }), conflict('ROUTE_CHANGED'));
    await assert.rejects(c.activate('ref', 'detail', 9), conflict('UNKNOWN_VERSION'));
    await assert.rejects(c.activate('ref', 'detail', 3), conflict('VERSION_NOT_LIVE'));
    await assert.rejects(c.activate('ref', 'detail', 1), conflict('ALREADY_ACTIVE'));
    let ran = false;
    await assert.rejects(
      c.activate('ref', 'detail', 2, {
        audit: { actor: 'cli:test', action: 'cutover', context: 'ref', projection: 'detail', version: 2 },
        beforeCommit: async () => {
          ran = true;
          throw new Error('alias swap failed');
        },
      }),
      /alias swap failed/,
    );
    assert.ok(ran);
    assert.equal(await c.activeVersion('ref', 'detail'), 1);
    assert.equal((await c.route('ref', 'detail'))?.previous, null);
    assert.deepEqual(await c.auditLog({ context: 'ref' }), []);
    // Concurrent cutovers expecting the same active version: exactly one wins.
    const outcomes = await Promise.allSettled([
      c.activate('ref', 'detail', 2, { expectedActive: 1 }),
      control().activate('ref', 'detail', 2, { expectedActive: 1 }),
    ]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    assert.equal(await c.activeVersion('ref', 'detail'), 2);
  });

  test('candidates are set, changed and cleared; only live, non-active versions qualify', async () => {
    const c = control();
    await projectionWith(c, 'cand', [2]);
    await c.register({ context: 'cand', name: 'detail', version: 3, store: 'postgres' });
    let notified = 0;
    await c.subscribe(() => notified++);
    await c.setCandidate('cand', 'detail', { version: 2, mode: 'shadow', percent: 100 });
    assert.deepEqual((await c.route('cand', 'detail'))?.candidate, {
      version: 2,
      mode: 'shadow',
      percent: 100,
    });
    await eventually(() => notified >= 1);
    await c.setCandidate(
      'cand',
      'detail',
      { version: 2, mode: 'split', percent: 25 },
      {
        audit: {
          actor: 'cli:test',
          action: 'cutover.split',
          context: 'cand',
          projection: 'detail',
          version: 2,
        },
      },
    );
    assert.deepEqual((await c.route('cand', 'detail'))?.candidate, {
      version: 2,
      mode: 'split',
      percent: 25,
    });
    await assert.rejects(
      c.setCandidate('cand', 'detail', { version: 1, mode: 'shadow', percent: 100 }),
      conflict('VERSION_ACTIVE'),
    );
    await assert.rejects(
      c.setCandidate('cand', 'detail', { version: 3, mode: 'shadow', percent: 100 }),
      conflict('VERSION_NOT_LIVE'),
    );
    await assert.rejects(
      c.setCandidate('cand', 'detail', { version: 2, mode: 'split', percent: 101 }),
      conflict('INVALID_CANDIDATE'),
    );
    await assert.rejects(
      c.setCandidate('cand', 'nothing', { version: 2, mode: 'shadow', percent: 100 }),
      conflict('NO_ACTIVE_VERSION'),
    );
    // A candidate is still being read: it cannot be retired or failed.
    await assert.rejects(
      c.setState('cand', 'detail', 2, 'retired', { retireAfter: new Date() }),
      conflict('VERSION_ACTIVE'),
    );
    await c.setCandidate('cand', 'detail', null, {
      audit: {
        actor: 'cli:test',
        action: 'cutover.abort',
        context: 'cand',
        projection: 'detail',
        reason: 'why',
      },
    });
    assert.equal((await c.route('cand', 'detail'))?.candidate, null);
    assert.deepEqual(
      (await c.auditLog({ context: 'cand' })).map((e) => [e.action, e.version, e.reason]),
      [
        ['cutover.abort', null, 'why'],
        ['cutover.split', 2, null],
      ],
    );
  });

  test('states: the active version cannot be retired; retired versions carry retireAfter and droppedAt', async () => {
    const c = control();
    const other = control();
    await projectionWith(c, 'st', [2]);
    let notified = 0;
    await other.subscribe(() => notified++);
    await assert.rejects(
      c.setState('st', 'detail', 1, 'retired', { retireAfter: new Date() }),
      conflict('VERSION_ACTIVE'),
    );
    await assert.rejects(c.setState('st', 'detail', 1, 'failed'), conflict('VERSION_ACTIVE'));
    await assert.rejects(c.setState('st', 'detail', 2, 'retired'), conflict('RETIRE_AFTER_REQUIRED'));
    await assert.rejects(c.setState('st', 'detail', 5, 'live'), conflict('UNKNOWN_VERSION'));
    await assert.rejects(c.markDropped('st', 'detail', 2), conflict('VERSION_NOT_RETIRED'));
    const retireAfter = new Date(Date.now() + 60_000);
    const before = notified;
    await c.setState('st', 'detail', 2, 'retired', {
      retireAfter,
      audit: { actor: 'cli:test', action: 'retire', context: 'st', projection: 'detail', version: 2 },
    });
    await eventually(() => notified > before);
    const retired = (await c.list()).find((r) => r.context === 'st' && r.version === 2);
    assert.equal(retired?.state, 'retired');
    assert.equal(retired?.retireAfter?.getTime(), retireAfter.getTime());
    assert.equal(retired?.droppedAt, null);
    await c.markDropped('st', 'detail', 2);
    const dropped = (await c.list()).find((r) => r.context === 'st' && r.version === 2);
    assert.ok(dropped?.droppedAt instanceof Date);
    await assert.rejects(c.setState('st', 'detail', 2, 'live'), conflict('VERSION_DROPPED'));
    // Registering a known version changes nothing, whatever state is asked for.
    await c.register({ context: 'st', name: 'detail', version: 2, store: 'postgres' }, { state: 'live' });
    assert.equal((await c.list()).find((r) => r.context === 'st' && r.version === 2)?.state, 'retired');
    assert.deepEqual(
      (await c.auditLog({ context: 'st', projection: 'detail' })).map((e) => e.action),
      ['retire'],
    );
  });

  test('audit log: newest first, filtered and limited', async () => {
    const c = control();
    for (let i = 0; i < 5; i++) {
      await c.audit({
        actor: `key-${i}`,
        action: 'replay',
        context: 'aud',
        projection: i % 2 === 0 ? 'even' : 'odd',
        version: i,
        details: { i },
      });
    }
    const even = await c.auditLog({ context: 'aud', projection: 'even' });
    assert.deepEqual(
      even.map((e) => [e.actor, e.details]),
      [
        ['key-4', { i: 4 }],
        ['key-2', { i: 2 }],
        ['key-0', { i: 0 }],
      ],
    );
    const newest = await c.auditLog({ context: 'aud', limit: 2 });
    assert.deepEqual(
      newest.map((e) => e.actor),
      ['key-4', 'key-3'],
    );
    assert.ok(newest[0] && newest[1] && newest[0].id > newest[1].id && newest[0].at instanceof Date);
  });

  test('shadow reports accumulate across instances and keep the newest 20 sample entries', async () => {
    const a = control();
    const b = control();
    const sample = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, at: `t${from + i}` }));
    await a.reportShadow({
      context: 'sh',
      projection: 'detail',
      version: 2,
      activeVersion: 1,
      reads: 100,
      mismatches: 15,
      skipped: 1,
      sample: sample(0, 15),
    });
    await b.reportShadow({
      context: 'sh',
      projection: 'detail',
      version: 2,
      activeVersion: 1,
      reads: 50,
      mismatches: 10,
      skipped: 2,
      sample: sample(15, 10),
    });
    await b.reportShadow({
      context: 'sh',
      projection: 'detail',
      version: 3,
      activeVersion: 1,
      reads: 7,
      mismatches: 0,
      skipped: 0,
      sample: [],
    });
    const reports = await a.shadowReports('sh', 'detail');
    assert.deepEqual(reports, [
      {
        context: 'sh',
        projection: 'detail',
        version: 2,
        activeVersion: 1,
        reads: 150,
        mismatches: 25,
        skipped: 3,
        sample: sample(5, 20),
      },
      {
        context: 'sh',
        projection: 'detail',
        version: 3,
        activeVersion: 1,
        reads: 7,
        mismatches: 0,
        skipped: 0,
        sample: [],
      },
    ]);
    assert.deepEqual(await a.shadowReports('sh', 'other'), []);
  });
});
