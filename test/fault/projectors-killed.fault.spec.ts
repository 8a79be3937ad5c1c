/**
 * Issue 4, must show: 20,000 mixed commands while projector processes are killed with SIGKILL and restarted;
 * afterwards each view (Postgres detail, Redis seller counters, memcached cards, search) equals the fold of the log,
 * recomputed here from the log itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listingsContext } from '@tidemark/listings';
import { openSink } from '@tidemark/ops';
import type { ChildProjector } from '../support/child-projector';
import { startChildProjector } from '../support/child-projector';
import { repoDeployment } from '../support/deployment';
import { compareWithFold, foldLog } from '../support/fold';
import { readEventsLog } from '../support/log';
import { postCommand, publishPayload, startTestPlatform, TEST_PARTITIONS } from '../support/platform';

const COMMANDS = Number(process.env.FAULT_COMMANDS ?? 20_000);
const CLIENTS = 32;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('projectors killed with SIGKILL under load', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  const projectors: ChildProjector[] = [];

  before(async () => {
    platform = await startTestPlatform({
      components: ['broker', 'postgres', 'redis', 'memcached', 'search'],
      readPath: { projectors: false, query: false },
    });
  });

  after(async () => {
    await Promise.all(projectors.map((p) => p.kill()));
    await platform?.close();
  });

  it(`${COMMANDS} mixed commands, projectors killed and restarted: every view equals the fold of the log`, async (t) => {
    const endpoints = {
      broker: platform.endpoints.broker as string,
      postgres: platform.endpoints.postgres as string,
      redis: platform.endpoints.redis,
      memcached: platform.endpoints.memcached,
      search: platform.endpoints.search,
    };
    const start = (name: string) => startChildProjector(name, endpoints, TEST_PARTITIONS);
    projectors.push(await start('p0'), await start('p1'));

    let sent = 0;
    const statuses = new Map<number, number>();
    const load = Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const listings: { id: string; price: number; open: boolean }[] = [];
        for (let i = 0; sent < COMMANDS; i++) {
          sent++;
          const live = listings.filter((l) => l.open);
          const target = live[i % Math.max(1, live.length)];
          const roll = (i * 7919 + client * 31) % 100;
          let body: Record<string, unknown>;
          if (!target || roll < 25) {
            const id = `k-${client}-${listings.length}`;
            const price = 1000 + ((i * 13) % 5000);
            listings.push({ id, price, open: true });
            body = {
              type: 'PublishListing',
              aggregateId: id,
              expectedVersion: 'new',
              payload: publishPayload(`seller-${client % 5}`, price, ['bikes', 'cars', 'homes'][i % 3]),
            };
          } else if (roll < 65) {
            target.price += 11;
            body = { type: 'ChangePrice', aggregateId: target.id, payload: { priceCents: target.price } };
          } else if (roll < 80) {
            body = {
              type: 'UpdateDetails',
              aggregateId: target.id,
              payload: { title: `Updated ${i}`, location: { country: 'NL', city: `City ${i % 7}` } },
            };
          } else if (roll < 88) {
            target.open = false;
            body = {
              type: 'WithdrawListing',
              aggregateId: target.id,
              payload: { reason: 'changed my mind' },
            };
          } else if (roll < 95) {
            target.open = false;
            body = {
              type: 'MarkSold',
              aggregateId: target.id,
              payload: { priceCents: target.price - 1, buyerId: 'b1' },
            };
          } else {
            // A listing that is already closed: a business rejection, which appends nothing.
            const closed = listings.find((l) => !l.open) ?? target;
            body = { type: 'ChangePrice', aggregateId: closed.id, payload: { priceCents: 5 } };
          }
          const answer = await postCommand(platform.endpoints.gateway, platform.apiKey, 'listings', body);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          assert.ok([200, 409, 422].includes(answer.status), JSON.stringify(answer.body));
        }
      }),
    );

    // Chaos: every few seconds one projector process is killed with SIGKILL and a new one started.
    let chaos = true;
    let kills = 0;
    const chaosLoop = (async () => {
      for (let round = 0; chaos; round++) {
        await sleep(2500);
        if (!chaos) break;
        const victim = projectors.splice(round % projectors.length, 1)[0];
        await victim?.kill();
        kills++;
        await sleep(500);
        projectors.push(await start(`p${round + 2}`));
      }
    })();
    await load;
    chaos = false;
    await chaosLoop;
    t.diagnostic(`commands: ${JSON.stringify(Object.fromEntries(statuses))}, projector kills: ${kills}`);
    assert.ok(kills >= 3, `only ${kills} kills happened`);

    // Wait for every view to reach the end of the log, then compare it with the fold.
    const log = (await readEventsLog(endpoints.broker, 'listings', TEST_PARTITIONS)).map((e) => ({
      ...e,
      event: {
        ...e.event,
        payload: listingsContext.events.read(e.event.type, e.event.schemaVersion, e.event.payload),
      },
    }));
    const ends = new Map<number, number>();
    for (const e of log) ends.set(e.partition, Math.max(ends.get(e.partition) ?? 0, e.offset + 1));
    for (const definition of (await repoDeployment()).projections(['listings'])) {
      const sink = openSink(
        definition,
        {
          postgres: endpoints.postgres,
          redis: endpoints.redis,
          memcached: endpoints.memcached,
          elasticsearch: endpoints.search,
        },
        TEST_PARTITIONS,
      );
      try {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const checkpoints = await sink.checkpoints();
          if ([...ends].every(([p, end]) => (checkpoints.get(p) ?? 0) >= end)) break;
          assert.ok(
            Date.now() < deadline,
            `${definition.name} did not catch up: ${JSON.stringify([...checkpoints])}`,
          );
          await sleep(200);
        }
        const { checked, differences } = await compareWithFold(sink, foldLog(definition, log));
        t.diagnostic(
          `${definition.name}: ${checked} documents compared with the fold of ${log.length} events`,
        );
        assert.ok(checked > 0);
        assert.deepEqual(differences.slice(0, 5), [], `${definition.name} differs from the fold`);
      } finally {
        await sink.close();
      }
    }
  });
});
