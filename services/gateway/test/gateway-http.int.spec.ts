import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { RunningGateway } from '../src';
import { startGateway } from '../src';
import { ScriptedTransport } from './support/scripted-transport';
import { widgetsContext } from './support/widgets-context';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);

const KEYS = {
  admin: { id: 'admin', secret: 'admin-secret-0123456789', scopes: ['*'] },
  writer: {
    id: 'writer',
    secret: 'writer-secret-0123456789',
    scopes: ['commands:write:widgets', 'commands:read:widgets'],
  },
  reader: { id: 'reader', secret: 'reader-secret-0123456789', scopes: ['commands:read:widgets'] },
  // Wildcard grants (@tidemark/http's scope grammar): a last `*` segment matches any context.
  anyWriter: { id: 'any-writer', secret: 'any-writer-secret-0123456789', scopes: ['commands:write:*'] },
  anyReader: { id: 'any-reader', secret: 'any-reader-secret-0123456789', scopes: ['commands:read:*'] },
  commands: { id: 'commands', secret: 'commands-secret-0123456789', scopes: ['commands:*'] },
  queries: { id: 'queries', secret: 'queries-secret-0123456789', scopes: ['queries:read:*'] },
};

interface ErrorBody {
  error: { code: string; message: string; retryable: boolean; details?: Record<string, unknown> };
}

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function call(
  gateway: RunningGateway,
  path: string,
  init: {
    method?: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
    key?: string | null;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  const key = init.key === undefined ? KEYS.writer.secret : init.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (init.raw !== undefined || init.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = init.raw ?? JSON.stringify(init.body);
  }
  const response = await fetch(`${gateway.url}${path}`, {
    method: init.method ?? (body ? 'POST' : 'GET'),
    headers,
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (metrics)
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

const errorOf = (answer: Answer) => (answer.body as ErrorBody).error;
const issuesOf = (answer: Answer) =>
  (errorOf(answer).details?.issues ?? []) as { path: string; message: string }[];

const create = (aggregateId: string, extra: Record<string, unknown> = {}) => ({
  type: 'CreateWidget',
  aggregateId,
  expectedVersion: 'new',
  payload: { name: 'sprocket', priceCents: 1299 },
  ...extra,
});

describe('gateway HTTP API', () => {
  const transport = new ScriptedTransport();
  let gateway: RunningGateway;

  before(async () => {
    gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      contexts: [widgetsContext()],
      transport,
      apiKeys: Object.values(KEYS),
      waitTimeoutMs: 300,
      maxBodyBytes: 4096,
      logger,
    });
  });

  after(async () => {
    await gateway.close();
    await transport.close();
  });

  test('200: accepted, with the Consistency-Token header and the envelope built from the request', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-1'),
      headers: { 'correlation-id': 'corr-1', 'causation-id': 'cause-1' },
    });
    assert.equal(answer.status, 200);
    const body = answer.body as {
      status: string;
      commandId: string;
      aggregateId: string;
      token: string;
      events: unknown[];
    };
    assert.equal(body.status, 'accepted');
    assert.equal(body.aggregateId, 'w-1');
    assert.equal(body.events.length, 1);
    assert.ok(body.token.startsWith('tok-'));
    assert.equal(answer.headers.get('consistency-token'), body.token);
    assert.match(
      body.commandId,
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      'a uuid v7',
    );
    const sent = transport.sent.find((s) => s.command.commandId === body.commandId);
    assert.ok(sent);
    assert.equal(sent.context, 'widgets');
    assert.deepEqual(sent.command.payload, { name: 'sprocket', priceCents: 1299 });
    assert.equal(sent.command.expectedVersion, 'new');
    assert.equal(sent.command.metadata.principal, 'writer');
    assert.equal(sent.command.metadata.correlationId, 'corr-1');
    assert.equal(sent.command.metadata.causationId, 'cause-1');
    assert.ok(!Number.isNaN(Date.parse(sent.command.metadata.receivedAt)));
  });

  test('Idempotency-Key is the command id; correlation and causation default to it', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-2'),
      headers: { 'idempotency-key': 'key-w-2' },
    });
    assert.equal(answer.status, 200);
    assert.equal((answer.body as { commandId: string }).commandId, 'key-w-2');
    const sent = transport.sent.find((s) => s.command.commandId === 'key-w-2');
    assert.equal(sent?.command.metadata.correlationId, 'key-w-2');
    assert.equal(sent?.command.metadata.causationId, 'key-w-2');
    // The same key with the same body id is fine; a retry answers the first outcome.
    const again = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-2', { commandId: 'key-w-2' }),
      headers: { 'idempotency-key': 'key-w-2' },
    });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, answer.body);
  });

  test('five concurrent POSTs with one Idempotency-Key get identical answers from one outcome', async () => {
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        call(gateway, '/v1/contexts/widgets/commands', {
          body: create('w-concurrent'),
          headers: { 'idempotency-key': 'key-concurrent' },
        }),
      ),
    );
    const first = answers[0];
    assert.ok(first);
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, first.body);
      assert.equal(answer.headers.get('consistency-token'), first.headers.get('consistency-token'));
    }
    const body = first.body as { commandId: string; token: string };
    assert.equal(body.commandId, 'key-concurrent');
    // One outcome was decided for the command id (the processor's dedup); every answer is that one.
    const decided = transport.decided.get('key-concurrent');
    assert.equal(decided?.status, 'accepted');
    assert.equal(decided.status === 'accepted' ? decided.token : undefined, body.token);
    const sends = transport.sent.filter((s) => s.command.commandId === 'key-concurrent').length;
    assert.ok(sends >= 1 && sends <= 5);
  });

  test('400: payload invalid, with the zod issues listed', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-bad', { payload: { name: '', priceCents: -5 } }),
    });
    assert.equal(answer.status, 400);
    const error = errorOf(answer);
    assert.equal(error.code, 'COMMAND_INVALID');
    assert.equal(error.retryable, false);
    const paths = issuesOf(answer)
      .map((i) => i.path)
      .sort();
    assert.deepEqual(paths, ['name', 'priceCents']);
  });

  test('400: request shape invalid, unknown command type', async () => {
    const shape = await call(gateway, '/v1/contexts/widgets/commands', { body: { type: 'CreateWidget' } });
    assert.equal(shape.status, 400);
    assert.equal(errorOf(shape).code, 'COMMAND_REQUEST_INVALID');
    assert.ok(issuesOf(shape).some((i) => i.path === 'aggregateId'));

    const unknown = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-x', { type: 'Explode' }),
    });
    assert.equal(unknown.status, 400);
    assert.equal(errorOf(unknown).code, 'COMMAND_TYPE_UNKNOWN');

    const notJson = await call(gateway, '/v1/contexts/widgets/commands', {
      raw: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(notJson.status, 400);
    assert.equal(errorOf(notJson).code, 'COMMAND_REQUEST_INVALID');
  });

  test('400: malformed JSON', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', { raw: '{"type": "CreateWidget", ' });
    assert.equal(answer.status, 400);
    assert.equal(errorOf(answer).code, 'MALFORMED_JSON');
  });

  test('400: Idempotency-Key and body commandId differ', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-3', { commandId: 'one' }),
      headers: { 'idempotency-key': 'two' },
    });
    assert.equal(answer.status, 400);
    assert.equal(errorOf(answer).code, 'IDEMPOTENCY_KEY_MISMATCH');
    assert.equal(transport.decided.has('one') || transport.decided.has('two'), false);
  });

  test('append: each event validated with the event registry', async () => {
    const bad = await call(gateway, '/v1/contexts/widgets/commands', {
      body: {
        type: 'append',
        aggregateId: 'w-append',
        expectedVersion: 'new',
        payload: {
          aggregateType: 'Widget',
          events: [
            { type: 'WidgetCreated', payload: { name: 'x', priceCents: 0 } },
            { type: 'WidgetVanished', payload: {} },
          ],
        },
      },
    });
    assert.equal(bad.status, 400);
    assert.equal(errorOf(bad).code, 'COMMAND_INVALID');
    const paths = issuesOf(bad).map((i) => i.path);
    assert.deepEqual(paths, ['events.0.payload.priceCents', 'events.1.type']);

    const good = await call(gateway, '/v1/contexts/widgets/commands', {
      body: {
        type: 'append',
        aggregateId: 'w-append',
        expectedVersion: 'new',
        payload: {
          aggregateType: 'Widget',
          events: [{ type: 'WidgetCreated', payload: { name: 'x', priceCents: 5 } }],
        },
      },
    });
    assert.equal(good.status, 200);
  });

  test('400: the processor found the command invalid', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', { body: create('invalid-1') });
    assert.equal(answer.status, 400);
    assert.equal(errorOf(answer).code, 'COMMAND_UNREADABLE');
    assert.deepEqual(errorOf(answer).details?.issues, [{ path: 'payload.name', message: 'too long' }]);
  });

  test('401: no key or an unknown key, with WWW-Authenticate; X-Api-Key is accepted', async () => {
    const none = await call(gateway, '/v1/contexts/widgets/commands', { body: create('w-4'), key: null });
    assert.equal(none.status, 401);
    assert.equal(errorOf(none).code, 'UNAUTHENTICATED');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);

    const wrong = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-4'),
      key: 'not-a-key',
    });
    assert.equal(wrong.status, 401);
    assert.equal(errorOf(wrong).code, 'UNAUTHENTICATED');

    const viaHeader = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-4'),
      key: null,
      headers: { 'x-api-key': KEYS.writer.secret },
    });
    assert.equal(viaHeader.status, 200);
  });

  test('403: a key without the scope, naming the scope needed', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-5'),
      key: KEYS.reader.secret,
    });
    assert.equal(answer.status, 403);
    assert.equal(errorOf(answer).code, 'FORBIDDEN');
    assert.equal(errorOf(answer).details?.requiredScope, 'commands:write:widgets');
    assert.match(errorOf(answer).message, /commands:write:widgets/);

    const otherContext = await call(gateway, '/v1/contexts/gadgets/commands', { body: create('w-5') });
    assert.equal(otherContext.status, 403);
    assert.equal(errorOf(otherContext).details?.requiredScope, 'commands:write:gadgets');
  });

  test('wildcard scopes: commands:write:* and commands:read:* cover every context, commands:* both', async () => {
    const posted = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-any-1'),
      headers: { 'idempotency-key': 'key-any-1' },
      key: KEYS.anyWriter.secret,
    });
    assert.equal(posted.status, 200);
    const sent = transport.sent.find((s) => s.command.commandId === 'key-any-1');
    assert.equal(sent?.command.metadata.principal, 'any-writer');
    // Past the guard for any context: the unknown one is a 404, not a 403.
    const elsewhere = await call(gateway, '/v1/contexts/gadgets/commands', {
      body: create('w-any-2'),
      key: KEYS.anyWriter.secret,
    });
    assert.deepEqual([elsewhere.status, errorOf(elsewhere).code], [404, 'CONTEXT_NOT_FOUND']);
    // commands:write:* does not read; commands:read:* does not write.
    const unread = await call(gateway, '/v1/contexts/widgets/commands/key-any-1', {
      key: KEYS.anyWriter.secret,
    });
    assert.deepEqual([unread.status, errorOf(unread).details?.requiredScope], [403, 'commands:read:widgets']);
    const read = await call(gateway, '/v1/contexts/widgets/commands/key-any-1', {
      key: KEYS.anyReader.secret,
    });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, posted.body);
    const unwritten = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-any-3'),
      key: KEYS.anyReader.secret,
    });
    assert.deepEqual(
      [unwritten.status, errorOf(unwritten).details?.requiredScope],
      [403, 'commands:write:widgets'],
    );

    const both = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-any-4'),
      headers: { 'idempotency-key': 'key-any-4' },
      key: KEYS.commands.secret,
    });
    assert.equal(both.status, 200);
    const bothRead = await call(gateway, '/v1/contexts/widgets/commands/key-any-4', {
      key: KEYS.commands.secret,
    });
    assert.equal(bothRead.status, 200);

    // A wildcard of another family allows nothing here.
    for (const [path, method] of [
      ['/v1/contexts/widgets/commands', 'POST'],
      ['/v1/contexts/widgets/commands/key-any-1', 'GET'],
    ] as const) {
      const refused = await call(gateway, path, {
        key: KEYS.queries.secret,
        ...(method === 'POST' ? { body: create('w-any-5') } : {}),
      });
      assert.deepEqual([refused.status, errorOf(refused).code], [403, 'FORBIDDEN'], path);
    }
  });

  test('404: unknown context', async () => {
    const answer = await call(gateway, '/v1/contexts/gadgets/commands', {
      body: create('w-6'),
      key: KEYS.admin.secret,
    });
    assert.equal(answer.status, 404);
    assert.equal(errorOf(answer).code, 'CONTEXT_NOT_FOUND');
  });

  test('GET: the outcome of a known command; 404 COMMAND_NOT_FOUND for an unknown one', async () => {
    const posted = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-7'),
      headers: { 'idempotency-key': 'key-w-7' },
    });
    assert.equal(posted.status, 200);
    const got = await call(gateway, '/v1/contexts/widgets/commands/key-w-7', { key: KEYS.reader.secret });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, posted.body);
    assert.equal(got.headers.get('consistency-token'), posted.headers.get('consistency-token'));

    const missing = await call(gateway, '/v1/contexts/widgets/commands/never-sent', {
      key: KEYS.reader.secret,
    });
    assert.equal(missing.status, 404);
    assert.equal(errorOf(missing).code, 'COMMAND_NOT_FOUND');

    const noRoute = await call(gateway, '/v2/nothing', { key: KEYS.reader.secret });
    assert.equal(noRoute.status, 404);
    assert.equal(errorOf(noRoute).code, 'ROUTE_NOT_FOUND');
  });

  test('409: version conflict with currentVersion and expectedVersion', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: { type: 'RenameWidget', aggregateId: 'conflict-1', expectedVersion: 4, payload: { name: 'cog' } },
    });
    assert.equal(answer.status, 409);
    const error = errorOf(answer);
    assert.equal(error.code, 'VERSION_CONFLICT');
    assert.equal(error.details?.expectedVersion, 4);
    assert.equal(error.details?.currentVersion, 7);
  });

  test('413: a body over maxBodyBytes', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('w-8', { payload: { name: 'x'.repeat(10_000), priceCents: 1 } }),
    });
    assert.equal(answer.status, 413);
    assert.equal(errorOf(answer).code, 'PAYLOAD_TOO_LARGE');
    assert.deepEqual(errorOf(answer).details, { limitBytes: 4096 });
  });

  test('415: a body that is neither JSON nor text; an empty JSON body is MALFORMED_JSON', async () => {
    const xml = await call(gateway, '/v1/contexts/widgets/commands', {
      raw: '<command/>',
      headers: { 'content-type': 'application/xml' },
    });
    assert.equal(xml.status, 415);
    assert.equal(errorOf(xml).code, 'UNSUPPORTED_MEDIA_TYPE');
    const empty = await call(gateway, '/v1/contexts/widgets/commands', { raw: '', method: 'POST' });
    assert.equal(empty.status, 400);
    assert.equal(errorOf(empty).code, 'MALFORMED_JSON');
    // The request id is on error answers too (the observer runs before body parsing).
    assert.match(xml.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('422: rejected by a business rule, with its code', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: { type: 'RenameWidget', aggregateId: 'reject-1', payload: { name: 'cog' } },
    });
    assert.equal(answer.status, 422);
    assert.equal(errorOf(answer).code, 'WIDGET_RETIRED');
    assert.equal(errorOf(answer).details?.aggregateVersion, 3);
  });

  test('503: COMMAND_PENDING when the wait times out, then the outcome can be polled', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('late-1'),
      headers: { 'idempotency-key': 'key-late-1' },
    });
    assert.equal(answer.status, 503);
    const error = errorOf(answer);
    assert.equal(error.code, 'COMMAND_PENDING');
    assert.equal(error.retryable, true);
    assert.equal(error.details?.commandId, 'key-late-1');
    assert.ok(Number(answer.headers.get('retry-after')) >= 1);
    const location = error.details?.location as string;
    assert.equal(location, '/v1/contexts/widgets/commands/key-late-1');

    const pending = await call(gateway, location, { key: KEYS.reader.secret });
    assert.equal(pending.status, 404);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const polled = await call(gateway, location, { key: KEYS.reader.secret });
    assert.equal(polled.status, 200);
    assert.equal((polled.body as { commandId: string }).commandId, 'key-late-1');
  });

  test('503: LOG_UNAVAILABLE with Retry-After', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', {
      body: create('down-1'),
      headers: { 'idempotency-key': 'key-down-1' },
    });
    assert.equal(answer.status, 503);
    assert.equal(errorOf(answer).code, 'LOG_UNAVAILABLE');
    assert.equal(errorOf(answer).retryable, true);
    assert.equal(errorOf(answer).details?.commandId, 'key-down-1');
    assert.ok(answer.headers.get('retry-after'));
  });

  test('500: an unexpected error answers INTERNAL with an id and no stack', async () => {
    const answer = await call(gateway, '/v1/contexts/widgets/commands', { body: create('boom-1') });
    assert.equal(answer.status, 500);
    const error = errorOf(answer);
    assert.equal(error.code, 'INTERNAL');
    assert.equal(typeof error.details?.errorId, 'string');
    assert.doesNotMatch(JSON.stringify(answer.body), /secret stack|at /);
  });

  test('GET /openapi.json: an OpenAPI 3.1 document listing the routes and the context commands', async () => {
    const answer = await call(gateway, '/openapi.json', { key: null });
    assert.equal(answer.status, 200);
    const doc = answer.body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/v1/contexts/{context}/commands']?.post);
    assert.ok(doc.paths['/v1/contexts/{context}/commands/{commandId}']?.get);
    assert.ok(doc.paths['/healthz']?.get);
    assert.ok(doc.paths['/metrics']?.get);
    assert.ok(doc.components.schemas['widgets.CreateWidget.Payload']?.properties?.priceCents);
    assert.ok(doc.components.schemas['widgets.append.Payload']);
    assert.ok(doc.components.schemas.CommandRequest?.properties?.aggregateId);
    assert.ok(doc.components.schemas.CommandOutcome);
    assert.ok(doc.components.schemas.Error);
  });

  test('GET /healthz and GET /metrics', async () => {
    const health = await call(gateway, '/healthz', { key: null });
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const metrics = await call(gateway, '/metrics', { key: null });
    assert.equal(metrics.status, 200);
    const text = String(metrics.body);
    assert.match(
      text,
      /tidemark_gateway_http_requests_total\{route="\/v1\/contexts\/:context\/commands",method="POST",status="200"\} \d+/,
    );
    assert.match(
      text,
      /tidemark_gateway_http_requests_total\{route="\/v1\/contexts\/:context\/commands",method="POST",status="413"\} \d+/,
    );
    // The route template Fastify matched, whatever answered (the guard, the handler); none: unmatched.
    assert.match(
      text,
      /tidemark_gateway_http_requests_total\{route="\/v1\/contexts\/:context\/commands",method="POST",status="401"\} \d+/,
    );
    assert.match(
      text,
      /tidemark_gateway_http_requests_total\{route="\/v1\/contexts\/:context\/commands\/:commandId",method="GET",status="404"\} \d+/,
    );
    assert.match(
      text,
      /tidemark_gateway_http_requests_total\{route="unmatched",method="GET",status="404"\} \d+/,
    );
    assert.match(
      text,
      /tidemark_gateway_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+/,
    );
    assert.match(
      text,
      /tidemark_gateway_command_outcomes_total\{context="widgets",type="CreateWidget",status="accepted"\} \d+/,
    );
    assert.match(text, /tidemark_gateway_command_wait_seconds\{quantile="0.99",context="widgets"\}/);
    assert.match(text, /tidemark_gateway_commands_in_flight 0/);
  });
});

describe('gateway in-flight bound', () => {
  const transport = new ScriptedTransport();
  let gateway: RunningGateway;

  before(async () => {
    gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      contexts: [widgetsContext()],
      transport,
      apiKeys: [KEYS.writer],
      waitTimeoutMs: 10_000,
      maxInFlight: 2,
      logger,
    });
  });

  after(async () => {
    await gateway.close();
    await transport.close();
  });

  test('429: TOO_MANY_IN_FLIGHT with Retry-After once maxInFlight commands are waiting', async () => {
    const held = [
      call(gateway, '/v1/contexts/widgets/commands', { body: create('hold-1') }),
      call(gateway, '/v1/contexts/widgets/commands', { body: create('hold-2') }),
    ];
    const deadline = Date.now() + 5_000;
    while (transport.sent.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(transport.sent.length, 2);

    const refused = await call(gateway, '/v1/contexts/widgets/commands', { body: create('w-9') });
    assert.equal(refused.status, 429);
    assert.equal(errorOf(refused).code, 'TOO_MANY_IN_FLIGHT');
    assert.equal(errorOf(refused).retryable, true);
    assert.ok(refused.headers.get('retry-after'));

    transport.release();
    const released = await Promise.all(held);
    for (const answer of released) assert.equal(answer.status, 200);
    const next = await call(gateway, '/v1/contexts/widgets/commands', { body: create('w-10') });
    assert.equal(next.status, 200);
  });
});
