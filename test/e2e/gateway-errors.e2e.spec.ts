import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningGateway } from '@tidemark/gateway';
import { KafkaCommandTransport, startGateway } from '@tidemark/gateway';
import pino from 'pino';
import { repoDeployment } from '../support/deployment';
import { postCommand, publishPayload, startTestPlatform } from '../support/platform';

type Platform = Awaited<ReturnType<typeof startTestPlatform>>;
const READ_ONLY_KEY = 'tdk_read_only_key_for_tests';

function errorCode(body: Record<string, unknown>): string | undefined {
  return (body.error as { code?: string } | undefined)?.code;
}

describe('gateway error statuses against the running platform', () => {
  let platform: Platform;
  before(async () => {
    platform = await startTestPlatform({
      gateway: {
        maxBodyBytes: 16 * 1024,
        apiKeys: [{ id: 'reader', secret: READ_ONLY_KEY, scopes: ['commands:read:listings'] }],
      },
    });
  });
  after(async () => {
    await platform.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}, key: string | null = platform.apiKey) =>
    postCommand(platform.gateway.url, key, 'listings', body, headers);

  test('200: accepted with the token in the body and the Consistency-Token header', async () => {
    const answer = await post({
      type: 'PublishListing',
      aggregateId: 'ok-1',
      expectedVersion: 'new',
      payload: publishPayload('s', 100),
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'accepted');
    assert.equal(answer.body.aggregateVersion, 1);
    assert.equal(answer.headers.get('consistency-token'), answer.body.token);
  });

  test('400: invalid payload (zod issues listed), malformed JSON, unknown command type', async () => {
    const invalid = await post({ type: 'ChangePrice', aggregateId: 'ok-1', payload: { priceCents: 12.5 } });
    assert.equal(invalid.status, 400);
    assert.equal(errorCode(invalid.body), 'COMMAND_INVALID');
    const issues =
      (invalid.body.error as { details?: { issues?: { path: string }[] } }).details?.issues ?? [];
    assert.ok(
      issues.some((i) => i.path === 'priceCents'),
      JSON.stringify(invalid.body),
    );
    const malformed = await post('{"type": "ChangePrice", ');
    assert.equal(malformed.status, 400);
    assert.equal(errorCode(malformed.body), 'MALFORMED_JSON');
    const unknown = await post({ type: 'Teleport', aggregateId: 'ok-1', payload: {} });
    assert.equal(unknown.status, 400);
    assert.equal(errorCode(unknown.body), 'COMMAND_TYPE_UNKNOWN');
  });

  test('401: no key or an unknown key', async () => {
    const none = await post(
      { type: 'ChangePrice', aggregateId: 'ok-1', payload: { priceCents: 1 } },
      {},
      null,
    );
    assert.equal(none.status, 401);
    assert.equal(errorCode(none.body), 'UNAUTHENTICATED');
    const wrong = await post(
      { type: 'ChangePrice', aggregateId: 'ok-1', payload: { priceCents: 1 } },
      {},
      'tdk_wrong',
    );
    assert.equal(wrong.status, 401);
  });

  test('403: a key without commands:write:<context>', async () => {
    const answer = await post(
      { type: 'ChangePrice', aggregateId: 'ok-1', payload: { priceCents: 1 } },
      {},
      READ_ONLY_KEY,
    );
    assert.equal(answer.status, 403);
    assert.equal(errorCode(answer.body), 'FORBIDDEN');
    assert.match(JSON.stringify(answer.body), /commands:write:listings/);
  });

  test('404: unknown context, unknown command id', async () => {
    const context = await postCommand(platform.gateway.url, platform.apiKey, 'nowhere', {
      type: 'X',
      aggregateId: 'a',
      payload: {},
    });
    assert.equal(context.status, 404);
    assert.equal(errorCode(context.body), 'CONTEXT_NOT_FOUND');
    const response = await fetch(`${platform.gateway.url}/v1/contexts/listings/commands/never-sent`, {
      headers: { authorization: `Bearer ${platform.apiKey}` },
    });
    assert.equal(response.status, 404);
    assert.equal(errorCode((await response.json()) as Record<string, unknown>), 'COMMAND_NOT_FOUND');
  });

  test('409: expected version mismatch, with the current version', async () => {
    await post({
      type: 'PublishListing',
      aggregateId: 'conflict-1',
      expectedVersion: 'new',
      payload: publishPayload('s', 100),
    });
    const answer = await post({
      type: 'ChangePrice',
      aggregateId: 'conflict-1',
      expectedVersion: 7,
      payload: { priceCents: 5 },
    });
    assert.equal(answer.status, 409);
    assert.equal(errorCode(answer.body), 'VERSION_CONFLICT');
    const details = (answer.body.error as { details: { currentVersion: number; expectedVersion: number } })
      .details;
    assert.equal(details.currentVersion, 1);
    assert.equal(details.expectedVersion, 7);
  });

  test('413: a body over the size limit', async () => {
    const answer = await post({
      type: 'UpdateDetails',
      aggregateId: 'ok-1',
      payload: { description: 'x'.repeat(32 * 1024) },
    });
    assert.equal(answer.status, 413);
    assert.equal(errorCode(answer.body), 'PAYLOAD_TOO_LARGE');
  });

  test('422: a business rule refuses the command', async () => {
    const answer = await post({
      type: 'ChangePrice',
      aggregateId: 'never-published',
      payload: { priceCents: 5 },
    });
    assert.equal(answer.status, 422);
    assert.equal(errorCode(answer.body), 'LISTING_NOT_FOUND');
  });

  describe('with a second gateway instance tuned to its limits', () => {
    let transport: KafkaCommandTransport;
    let tight: RunningGateway;
    before(async () => {
      const logger = pino({ level: 'warn' });
      transport = await KafkaCommandTransport.start({
        brokers: [platform.endpoints.broker as string],
        contexts: ['listings'],
        logger,
      });
      tight = await startGateway({
        contexts: (await repoDeployment()).contexts(),
        transport,
        apiKeys: [{ id: 'dev', secret: platform.apiKey, scopes: ['*'] }],
        logger,
        host: '127.0.0.1',
        port: 0,
        maxInFlight: 2,
        waitTimeoutMs: 1,
      });
    });
    after(async () => {
      await tight.close();
      await transport.close();
    });

    test('503 COMMAND_PENDING when the wait times out; the outcome is there afterwards', async () => {
      const answer = await postCommand(tight.url, platform.apiKey, 'listings', {
        commandId: 'slow-1',
        type: 'PublishListing',
        aggregateId: 'slow-1',
        expectedVersion: 'new',
        payload: publishPayload('s', 100),
      });
      assert.equal(answer.status, 503);
      assert.equal(errorCode(answer.body), 'COMMAND_PENDING');
      assert.ok(answer.headers.get('retry-after'));
      let outcome: Response | undefined;
      for (let i = 0; i < 100; i++) {
        outcome = await fetch(`${tight.url}/v1/contexts/listings/commands/slow-1`, {
          headers: { authorization: `Bearer ${platform.apiKey}` },
        });
        if (outcome.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(outcome);
      assert.equal(outcome.status, 200);
      assert.equal(((await outcome.json()) as { status: string }).status, 'accepted');
    });

    test('429 TOO_MANY_IN_FLIGHT past the in-flight bound', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          postCommand(tight.url, platform.apiKey, 'listings', {
            type: 'PublishListing',
            aggregateId: `burst-${i}`,
            expectedVersion: 'new',
            payload: publishPayload('s', 100),
          }),
        ),
      );
      const limited = answers.filter((a) => a.status === 429);
      assert.ok(limited.length > 0, `statuses: ${answers.map((a) => a.status)}`);
      for (const answer of limited) {
        assert.equal(errorCode(answer.body), 'TOO_MANY_IN_FLIGHT');
        assert.ok(answer.headers.get('retry-after'));
      }
      assert.ok(
        answers.every((a) => a.status === 429 || a.status === 503),
        'nothing else fails',
      );
    });
  });

  test('503 LOG_UNAVAILABLE while the log cannot be reached; answers again once it is back', async () => {
    await platform.stack.stopComponent('broker');
    const answer = await post({
      type: 'PublishListing',
      aggregateId: 'offline-1',
      expectedVersion: 'new',
      payload: publishPayload('s', 100),
    });
    assert.equal(answer.status, 503);
    assert.equal(errorCode(answer.body), 'LOG_UNAVAILABLE');
    assert.ok(answer.headers.get('retry-after'));
    // Nothing accepted was lost: with the broker back, the platform answers again (and shuts down cleanly).
    await platform.stack.restart('broker');
    let again = await post({ type: 'ChangePrice', aggregateId: 'ok-1', payload: { priceCents: 4321 } });
    for (let i = 0; i < 40 && again.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      again = await post({ type: 'ChangePrice', aggregateId: 'ok-1', payload: { priceCents: 4321 } });
    }
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.ok((again.body.aggregateVersion as number) >= 2, 'the earlier events of ok-1 are still there');
  });
});
