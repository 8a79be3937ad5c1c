import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WatermarkUpdate } from '@tidemark/projection-runtime';
import {
  createPostgresProjectionControl,
  createPostgresWatermarkBus,
  WATERMARK_CHANNEL,
} from '@tidemark/projection-runtime';
import pg from 'pg';
import type { Harness } from '../support/runtime-harness';
import { eventually, startHarness } from '../support/runtime-harness';

let h: Harness;

before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

async function terminate(pid: number | null): Promise<void> {
  assert.ok(pid, 'listener has a backend');
  const client = new pg.Client({ connectionString: h.postgres });
  await client.connect();
  try {
    await client.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await client.end();
  }
}

describe('PostgresWatermarkBus', () => {
  test('delivers published updates to every subscriber, split under the NOTIFY limit', async () => {
    const publisher = createPostgresWatermarkBus({ connectionString: h.postgres, logger: h.logger });
    const listenerBus = createPostgresWatermarkBus({ connectionString: h.postgres, logger: h.logger });
    try {
      const seenA: WatermarkUpdate[] = [];
      const seenB: WatermarkUpdate[] = [];
      await listenerBus.subscribe((u) => seenA.push(u));
      const unsubscribeB = await listenerBus.subscribe((u) => seenB.push(u));
      const updates = Array.from({ length: 600 }, (_, partition) => ({
        context: 'bus',
        projection: 'a-rather-long-projection-name-to-need-splitting',
        version: 3,
        partition,
        offset: partition * 7,
      }));
      await publisher.publish(updates);
      await eventually(() => seenA.length === 600 && seenB.length === 600);
      assert.deepEqual(seenA, updates);
      await unsubscribeB();
      await publisher.publish([{ context: 'bus', projection: 'p', version: 1, partition: 0, offset: 1 }]);
      await eventually(() => seenA.length === 601);
      assert.equal(seenB.length, 600);
    } finally {
      await publisher.close();
      await listenerBus.close();
    }
  });

  test('reconnects after its LISTEN connection is killed and calls onReconnect', async () => {
    const bus = createPostgresWatermarkBus({ connectionString: h.postgres, logger: h.logger });
    try {
      const seen: WatermarkUpdate[] = [];
      let reconnects = 0;
      await bus.subscribe(
        (u) => seen.push(u),
        () => reconnects++,
      );
      await terminate(await bus.listenerBackendPid());
      await eventually(() => reconnects === 1, 15_000);
      // A raw NOTIFY in the documented wire format reaches the listener again.
      const client = new pg.Client({ connectionString: h.postgres });
      await client.connect();
      await client.query('select pg_notify($1, $2)', [WATERMARK_CHANNEL, '[["c","p",1,2,42]]']);
      await client.end();
      await eventually(() => seen.length === 1);
      assert.deepEqual(seen[0], { context: 'c', projection: 'p', version: 1, partition: 2, offset: 42 });
    } finally {
      await bus.close();
    }
  });
});

describe('PostgresProjectionControl', () => {
  test('concurrent starters create the tables once; first version live and active, later ones building', async () => {
    const controls = Array.from({ length: 4 }, () =>
      createPostgresProjectionControl({ connectionString: h.postgres, logger: h.logger }),
    );
    try {
      await Promise.all(
        controls.map((c) => c.register({ context: 'ctl', name: 'detail', version: 1, store: 'postgres' })),
      );
      const [control] = controls;
      assert.ok(control);
      await control.register({ context: 'ctl', name: 'detail', version: 2, store: 'postgres' });
      await control.register({ context: 'ctl', name: 'detail', version: 1, store: 'postgres' });
      assert.equal(await control.activeVersion('ctl', 'detail'), 1);
      assert.equal(await control.activeVersion('ctl', 'nothing'), null);
      const rows = (await control.list())
        .filter((r) => r.context === 'ctl')
        .map(({ registeredAt, updatedAt, ...rest }) => {
          assert.ok(registeredAt instanceof Date && updatedAt instanceof Date);
          return rest;
        });
      assert.deepEqual(rows, [
        {
          context: 'ctl',
          projection: 'detail',
          version: 1,
          store: 'postgres',
          state: 'live',
          active: true,
          retireAfter: null,
          droppedAt: null,
        },
        {
          context: 'ctl',
          projection: 'detail',
          version: 2,
          store: 'postgres',
          state: 'building',
          active: false,
          retireAfter: null,
          droppedAt: null,
        },
      ]);
    } finally {
      await Promise.all(controls.map((c) => c.close()));
    }
  });

  test('activate is announced to subscribers (and they are called again after a reconnect)', async () => {
    const admin = createPostgresProjectionControl({ connectionString: h.postgres, logger: h.logger });
    const reader = createPostgresProjectionControl({ connectionString: h.postgres, logger: h.logger });
    try {
      await admin.register({ context: 'ctl2', name: 'cards', version: 1, store: 'memcached' });
      await admin.register(
        { context: 'ctl2', name: 'cards', version: 2, store: 'memcached' },
        { state: 'live' },
      );
      let calls = 0;
      const observed: (number | null)[] = [];
      await reader.subscribe(() => {
        calls++;
        void reader.activeVersion('ctl2', 'cards').then((v) => observed.push(v));
      });
      await admin.activate('ctl2', 'cards', 2);
      await eventually(() => observed.includes(2));
      assert.equal(await reader.activeVersion('ctl2', 'cards'), 2);
      await assert.rejects(admin.activate('ctl2', 'cards', 9), /no version 9/);
      await admin.activate('ctl2', 'cards', 1); // rollback is the same switch
      await eventually(() => observed.at(-1) === 1);
      const before = calls;
      await terminate(await reader.listenerBackendPid());
      await eventually(() => calls > before, 15_000);
    } finally {
      await admin.close();
      await reader.close();
    }
  });
});
