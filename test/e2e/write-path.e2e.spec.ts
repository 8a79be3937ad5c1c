import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import { readEventsLog } from '../support/log';
import type { HttpAnswer } from '../support/platform';
import { postCommand, publishPayload, startTestPlatform, TEST_PARTITIONS } from '../support/platform';

type Platform = Awaited<ReturnType<typeof startTestPlatform>>;

describe('write path end to end: gateway, processor, broker', () => {
  let platform: Platform;
  before(async () => {
    platform = await startTestPlatform();
  });
  after(async () => {
    await platform.close();
  });

  test('10,000 commands over 1,000 aggregates from 32 clients: the log holds exactly the accepted events', async () => {
    const gateway = platform.gateway.url;
    const aggregates = Array.from({ length: 1000 }, (_, i) => `listing-${i}`);
    const knownVersion = new Map<string, number>();
    const answers: { commandId: string; aggregateId: string; answer: HttpAnswer }[] = [];
    let issued = 0;
    const TOTAL = 10_000;
    const clients = Array.from({ length: 32 }, async (_, client) => {
      while (issued < TOTAL) {
        const n = issued++;
        // Each client works on its own slice of aggregates, with stale versions now and then (conflicts).
        const aggregateId = aggregates[(client * 31 + n * 7) % aggregates.length] as string;
        const version = knownVersion.get(aggregateId);
        const commandId = `cmd-${n}`;
        let body: Record<string, unknown>;
        if (version === undefined) {
          body = {
            type: 'PublishListing',
            aggregateId,
            expectedVersion: 'new',
            payload: publishPayload(`seller-${n % 50}`, 1000 + n),
          };
        } else if (n % 97 === 0) {
          body = { type: 'WithdrawListing', aggregateId, payload: { reason: 'changed my mind' } };
        } else {
          const expectedVersion = n % 10 === 0 ? Math.max(0, version - 1) : version;
          body = {
            type: 'ChangePrice',
            aggregateId,
            expectedVersion,
            payload: { priceCents: 500 + (n % 5000) },
          };
        }
        const answer = await postCommand(gateway, platform.apiKey, 'listings', { commandId, ...body });
        answers.push({ commandId, aggregateId, answer });
        if (answer.status === 200) knownVersion.set(aggregateId, answer.body.aggregateVersion as number);
        if (answer.status === 409)
          knownVersion.set(
            aggregateId,
            answer.body.error
              ? ((answer.body.error as { details?: { currentVersion?: number } }).details?.currentVersion ??
                  version ??
                  0)
              : 0,
          );
      }
    });
    await Promise.all(clients);
    assert.equal(answers.length, TOTAL);
    const byStatus = new Map<number, number>();
    for (const { answer } of answers) byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    assert.deepEqual(
      [...byStatus.keys()].filter((s) => ![200, 409, 422].includes(s)),
      [],
      `statuses: ${JSON.stringify([...byStatus])}`,
    );
    assert.ok((byStatus.get(200) ?? 0) > 5000, 'most commands accepted');
    assert.ok((byStatus.get(409) ?? 0) > 0, 'stale versions were refused');

    const log = await readEventsLog(platform.endpoints.broker as string, 'listings', TEST_PARTITIONS);
    // Every event in its aggregate's partition; versions gapless and ordered; no (aggregate, version) twice.
    const versions = new Map<string, number[]>();
    for (const { event, partition } of log) {
      assert.equal(partition, partitionForKey(event.aggregate.id, TEST_PARTITIONS));
      versions.set(event.aggregate.id, [...(versions.get(event.aggregate.id) ?? []), event.version]);
    }
    for (const [id, list] of versions)
      assert.deepEqual(
        list,
        list.map((_, i) => i + 1),
        `versions of ${id}`,
      );
    // Exactly the accepted commands' events, each once, as answered.
    const logById = new Map(log.map(({ event }) => [event.id, event]));
    assert.equal(logById.size, log.length);
    let acceptedEvents = 0;
    for (const { answer, commandId } of answers) {
      if (answer.status !== 200) continue;
      for (const event of answer.body.events as { id: string }[]) {
        acceptedEvents++;
        assert.deepEqual(logById.get(event.id), event, `event of ${commandId}`);
      }
      assert.ok(
        typeof answer.body.token === 'string' &&
          answer.headers.get('consistency-token') === answer.body.token,
      );
    }
    assert.equal(acceptedEvents, log.length, 'nothing in the log that was not answered as accepted');
    const appended = new Set(log.map(({ event }) => event.commandId));
    for (const { answer, commandId } of answers) {
      if (answer.status !== 200)
        assert.ok(!appended.has(commandId), `${commandId} (${answer.status}) appended nothing`);
    }
  });

  test('the same command id five times at once: one set of events, five identical answers', async () => {
    const body = {
      type: 'PublishListing',
      aggregateId: 'dup-listing',
      expectedVersion: 'new',
      payload: publishPayload('dup-seller', 4200),
    };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        postCommand(platform.gateway.url, platform.apiKey, 'listings', body, {
          'Idempotency-Key': 'same-key-5',
        }),
      ),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, answers[0]?.body);
    }
    const again = await postCommand(platform.gateway.url, platform.apiKey, 'listings', body, {
      'Idempotency-Key': 'same-key-5',
    });
    assert.deepEqual(again.body, answers[0]?.body, 'a later retry too');
    const log = await readEventsLog(platform.endpoints.broker as string, 'listings', TEST_PARTITIONS);
    const events = log.filter(({ event }) => event.commandId === 'same-key-5');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.event.aggregate.id, 'dup-listing');
  });

  test('the built-in append command publishes given events with an expected version; unknown types are refused', async () => {
    const append = (expectedVersion: number | 'new', events: { type: string; payload: unknown }[]) =>
      postCommand(platform.gateway.url, platform.apiKey, 'listings', {
        type: 'append',
        aggregateId: 'appended-1',
        expectedVersion,
        payload: { aggregateType: 'listing', events },
      });
    const first = await append('new', [
      { type: 'ListingPublished', payload: publishPayload('importer', 1500) },
      {
        type: 'PriceChanged',
        payload: { sellerId: 'importer', priceCents: 1400, previousPriceCents: 1500, currency: 'EUR' },
      },
    ]);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.aggregateVersion, 2);
    const stale = await append(1, [
      { type: 'ListingWithdrawn', payload: { sellerId: 'importer', priceCents: 1400, currency: 'EUR' } },
    ]);
    assert.equal(stale.status, 409);
    const unknown = await append(2, [{ type: 'ListingTeleported', payload: {} }]);
    assert.equal(unknown.status, 400);
    const log = await readEventsLog(platform.endpoints.broker as string, 'listings', TEST_PARTITIONS);
    const versions = log
      .filter(({ event }) => event.aggregate.id === 'appended-1')
      .map(({ event }) => [event.type, event.version]);
    assert.deepEqual(versions, [
      ['ListingPublished', 1],
      ['PriceChanged', 2],
    ]);
  });
});

for (const processorMode of ['child', 'in-process'] as const) {
  describe(`write path with the processor ${processorMode === 'child' ? 'in its own process' : 'in the platform process'}`, () => {
    let platform: Platform;
    before(async () => {
      platform = await startTestPlatform({ processorMode, metricsPort: 0 });
    });
    after(async () => {
      await platform.close();
    });

    test('commands are decided and the processor serves its own /metrics', async () => {
      let metricsUrl: string | undefined;
      if (processorMode === 'child') {
        const [child] = platform.processorChildren;
        assert.ok(child?.pid, 'a processor process runs');
        assert.notEqual(child.pid, process.pid);
        metricsUrl = child.metricsUrl;
      } else {
        const [processor] = platform.processors;
        assert.ok(processor, 'a processor runs in the platform process');
        metricsUrl = platform.processorMetrics.get(processor);
      }
      const answer = await postCommand(platform.gateway.url, platform.apiKey, 'listings', {
        type: 'PublishListing',
        aggregateId: `${processorMode}-listing`,
        expectedVersion: 'new',
        payload: publishPayload('mode-seller', 1500),
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.aggregateVersion, 1);
      assert.match(metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const metrics = await (await fetch(metricsUrl as string)).text();
      const accepted = /tidemark_processor_commands_total\{[^}]*status="accepted"[^}]*\} (\d+)/.exec(metrics);
      assert.ok(accepted, 'the accepted-commands counter is exported');
      assert.ok(Number(accepted[1]) >= 1);
    });
  });
}
