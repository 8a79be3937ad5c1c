/**
 * Two contexts in one query API over real HTTP: listings (test/support/world.ts) and a tiny "notes" context
 * written with the SDK (test/support/notes.ts: defineContext, defineProjection, defineQueries), each with its own
 * events topic identity, partition count, views and read scope, sharing the control table and the watermark bus,
 * all in memory. Each context's generated routes answer from its own views; a token is a position in one
 * context's events topic, so a listings token sent to a notes route is a 400 TOKEN_FOREIGN (and the reverse),
 * never a wait or a wrong answer (DESIGN invariant 3: a read carrying token T reflects every event below T, or
 * fails with a retryable error, which needs T to be read against its own log); a key with
 * `queries:read:listings` only is a 403 on the notes routes and a 200 on the listings ones. The OpenAPI document
 * lists both contexts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '@tidemark/kafka';
import { decodeToken, encodeToken, tokenFromPositions } from '@tidemark/schemas';
import pino from 'pino';
import type { RunningQueryApi } from '../src';
import { startQueryApi } from '../src';
import { flush, until } from './support/fakes';
import { NOTES, NOTES_IDENTITY, NOTES_PARTITIONS, NotesWorld, noteEvent } from './support/notes';
import { CONTEXT, envelope, IDENTITY, ListingsWorld, PARTITIONS, publishedPayload } from './support/world';

const logger = pino(
  { level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' },
  pino.destination({ fd: 2, sync: true }),
);

const KEYS = {
  listings: {
    id: 'listings-reader',
    secret: 'listings-secret-0123456789',
    scopes: ['queries:read:listings'],
  },
  notes: { id: 'notes-reader', secret: 'notes-secret-0123456789', scopes: ['queries:read:notes'] },
  reads: { id: 'all-reads', secret: 'reads-secret-0123456789', scopes: ['queries:read:*'] },
  admin: { id: 'admin', secret: 'admin-secret-0123456789', scopes: ['*'] },
};

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: {
    data?: Record<string, unknown>;
    token?: string;
    error?: { code: string; message: string; retryable: boolean; details?: Record<string, unknown> };
  };
}

describe('two contexts in one query API (in-memory stores)', () => {
  const world = new ListingsWorld();
  const notes = new NotesWorld(world.control, world.bus);
  let api: RunningQueryApi;

  async function get(path: string, init: { token?: string; key?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${init.key ?? KEYS.admin.secret}` };
    if (init.token !== undefined) headers['consistency-token'] = init.token;
    const response = await fetch(`${api.url}${path}`, { headers });
    const text = await response.text();
    let body: Answer['body'] = {};
    try {
      body = JSON.parse(text);
    } catch {
      // metrics are text
    }
    return { status: response.status, headers: response.headers, text, body };
  }

  before(async () => {
    await world.register(1);
    await notes.register(1);
    world.append(
      envelope('l-1', 1, 'ListingPublished', publishedPayload('s-1', 1000)),
      envelope('l-2', 1, 'ListingPublished', publishedPayload('s-1', 500)),
    );
    // Ada's notes are spread over both notes partitions (her count is merged on read).
    const ids = ['n-1', 'n-2', 'n-3', 'n-4'];
    assert.equal(new Set(ids.map((id) => partitionForKey(id, NOTES_PARTITIONS))).size, NOTES_PARTITIONS);
    notes.append(...ids.map((id) => noteEvent(id, 1, 'NoteWritten', { author: 'ada', text: `note ${id}` })));
    notes.append(noteEvent('n-5', 1, 'NoteWritten', { author: 'bob', text: 'hello' }));
    await world.projectAll();
    await notes.projectAll();
    api = await startQueryApi({
      host: '127.0.0.1',
      port: 0,
      apiKeys: Object.values(KEYS),
      contexts: [world.context(), notes.context()],
      control: world.control,
      bus: world.bus,
      // Nothing here waits for a bound to pass; reads that wait are answered while they wait.
      waitTimeoutMs: 5000,
      logger,
    });
  });

  after(async () => {
    await api.close();
  });

  test("each context's routes answer from its own views, with its own topic's token", async () => {
    const note = await get('/v1/notes/n-2');
    assert.equal(note.status, 200);
    assert.deepEqual(note.body.data, { id: 'n-2', author: 'ada', text: 'note n-2', edits: 0 });
    assert.equal(note.headers.get('x-tidemark-view'), 'note.v1');
    assert.equal(note.headers.get('x-tidemark-source'), 'postgres');
    const noteToken = decodeToken(note.body.token as string, NOTES_IDENTITY);
    assert.deepEqual(
      [...noteToken.positions].sort(),
      notes.log.map((log, partition) => [partition, log.length]),
      'the notes watermark, over the notes partitions only',
    );

    const ada = await get('/v1/authors/ada/notes');
    assert.equal(ada.status, 200);
    assert.deepEqual(ada.body.data, { author: 'ada', notes: 4 });
    assert.equal(ada.headers.get('x-tidemark-view'), 'author-notes.v1');
    assert.equal(ada.headers.get('x-tidemark-source'), 'redis');

    const listing = await get('/v1/listings/l-1');
    assert.equal(listing.status, 200);
    assert.equal(listing.body.data?.id, 'l-1');
    const listingToken = decodeToken(listing.body.token as string, IDENTITY);
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(listingToken.positions.get(p) ?? 0, world.log[p]?.length ?? 0);
    }
  });

  test('404s, bad keys and unknown parameters name the route’s own path parameter', async () => {
    const missing = await get('/v1/notes/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body.error, {
      code: 'NOTE_NOT_FOUND',
      message: "note has no document 'nope'",
      retryable: false,
      details: { noteId: 'nope' },
    });
    const nobody = await get('/v1/authors/nobody/notes');
    assert.equal(nobody.status, 404);
    assert.deepEqual(nobody.body.error?.details, { author: 'nobody' });
    assert.equal(nobody.body.error?.code, 'AUTHOR_NOT_FOUND');
    const long = await get(`/v1/notes/${'n'.repeat(201)}`);
    assert.equal(long.body.error?.code, 'INVALID_ID');
    assert.match(long.body.error?.message ?? '', /^noteId must be 1 to 200 characters/);
    const unknown = await get('/v1/notes/n-1?noteId=n-2');
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.error?.details, { parameter: 'noteId' });
  });

  test('a token of one context sent to the other context’s route is 400 TOKEN_FOREIGN', async () => {
    const listingsToken = (await get('/v1/listings/l-1')).body.token as string;
    const notesToken = (await get('/v1/notes/n-1')).body.token as string;
    for (const [path, token, expected] of [
      ['/v1/notes/n-1', listingsToken, NOTES_IDENTITY],
      ['/v1/authors/ada/notes', listingsToken, NOTES_IDENTITY],
      ['/v1/listings/l-1', notesToken, IDENTITY],
      ['/v1/listings/l-1/card', notesToken, IDENTITY],
      ['/v1/sellers/s-1/stats', notesToken, IDENTITY],
    ] as const) {
      const answer = await get(path, { token });
      assert.equal(answer.status, 400, path);
      assert.equal(answer.body.error?.code, 'TOKEN_FOREIGN', path);
      assert.equal(answer.body.error?.retryable, false, path);
      assert.equal(answer.body.error?.details?.expectedTopic, expected, path);
    }
    // Each token is good on its own context's routes.
    assert.equal((await get('/v1/notes/n-1', { token: notesToken })).status, 200);
    assert.equal((await get('/v1/listings/l-1', { token: listingsToken })).status, 200);
  });

  test('partitions are per context: a notes token naming partition 2 is past its log, a listings one is not', async () => {
    const beyond = encodeToken(tokenFromPositions(NOTES_IDENTITY, { [NOTES_PARTITIONS]: 1 }));
    const answer = await get('/v1/notes/n-1', { token: beyond });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error?.code, 'TOKEN_AHEAD_OF_LOG');
    assert.deepEqual(answer.body.error?.details, { partition: 2, partitions: NOTES_PARTITIONS });
    const listings = encodeToken(tokenFromPositions(IDENTITY, { 2: world.log[2]?.length ?? 0 }));
    assert.equal((await get('/v1/listings/l-1', { token: listings })).status, 200);
  });

  test('read-your-writes per context: a notes write waits for the notes view, listings progress does not count', async () => {
    const written = notes.append(noteEvent('n-1', 2, 'NoteEdited', { author: 'ada', text: 'edited' }));
    const token = encodeToken(tokenFromPositions(NOTES_IDENTITY, written));
    let answered = false;
    const reading = get('/v1/notes/n-1', { token }).finally(() => {
      answered = true;
    });
    const waiting = () => api.engine.context(NOTES).tracker.waiting;
    await until(() => waiting() > 0, 'the notes read waits');
    // Listings moves on meanwhile (its own topic, its own watermarks): the notes read keeps waiting.
    world.append(envelope('l-3', 1, 'ListingPublished', publishedPayload('s-2')));
    await world.projectAll();
    await flush();
    assert.equal(answered, false, 'listings progress does not answer a notes read');
    assert.equal(waiting(), 1);
    assert.equal(api.engine.context(CONTEXT).tracker.waiting, 0);
    await notes.projectAll();
    const answer = await reading;
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.data, { id: 'n-1', author: 'ada', text: 'edited', edits: 1 });
    const back = decodeToken(answer.body.token as string, NOTES_IDENTITY);
    for (const [p, o] of Object.entries(written)) assert.ok((back.positions.get(Number(p)) ?? 0) >= o);
  });

  test('a key with queries:read:listings only: 403 on the notes routes, 200 on the listings ones', async () => {
    for (const path of ['/v1/notes/n-1', '/v1/authors/ada/notes']) {
      const refused = await get(path, { key: KEYS.listings.secret });
      assert.equal(refused.status, 403, path);
      assert.deepEqual(refused.body.error, {
        code: 'FORBIDDEN',
        message: "the API key lacks the scope 'queries:read:notes'",
        retryable: false,
        details: { requiredScope: 'queries:read:notes' },
      });
      assert.equal((await get(path, { key: KEYS.notes.secret })).status, 200, path);
      assert.equal((await get(path, { key: KEYS.reads.secret })).status, 200, path);
    }
    for (const path of ['/v1/listings/l-1', '/v1/listings/l-1/card', '/v1/sellers/s-1/stats']) {
      assert.equal((await get(path, { key: KEYS.listings.secret })).status, 200, path);
      const refused = await get(path, { key: KEYS.notes.secret });
      assert.equal(refused.status, 403, path);
      assert.deepEqual(refused.body.error?.details, { requiredScope: 'queries:read:listings' });
      assert.equal((await get(path, { key: KEYS.reads.secret })).status, 200, path);
    }
    // The scope is checked before the route's parameters: no hint about a route the key cannot read.
    assert.equal((await get('/v1/notes/n-1?bad=1', { key: KEYS.listings.secret })).status, 403);
  });

  test('request metric labels: the route template Fastify matched, a static route before a parameter one', async () => {
    const count = async (route: string, status: number) => {
      const line = (await get('/metrics')).text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('tidemark_query_http_request_duration_seconds_count{') &&
            l.includes(`route="${route}",method="GET",status="${status}"`),
        );
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const cases: [path: string, route: string][] = [
      ['/v1/listings/search?q=bike', '/v1/listings/search'],
      ['/v1/listings/searchable', '/v1/listings/:id'],
      ['/v1/listings/search/card', '/v1/listings/:id/card'],
      ['/v1/notes/n-1', '/v1/notes/:noteId'],
      ['/v1/authors/ada/notes', '/v1/authors/:author/notes'],
      ['/openapi.json', '/openapi.json'],
      // No route: the not-found handler answers (a trailing slash is another path for Fastify).
      ['/v1/listings/a/b', 'unmatched'],
      ['/v1/listings/search/', 'unmatched'],
    ];
    for (const [path, route] of cases) {
      const answer = await get(path);
      const before = await count(route, answer.status);
      await get(path);
      assert.equal(await count(route, answer.status), before + 1, `${path} -> ${route} (${answer.status})`);
    }
    // A 403 is labelled with its route too: the guard runs once Fastify has routed the request.
    const before = await count('/v1/notes/:noteId', 403);
    assert.equal((await get('/v1/notes/n-1', { key: KEYS.listings.secret })).status, 403);
    assert.equal(await count('/v1/notes/:noteId', 403), before + 1);
  });

  test('metrics and the OpenAPI document cover both contexts', async () => {
    const metrics = await get('/metrics');
    assert.match(metrics.text, /tidemark_query_active_version\{context="notes",projection="note"\} 1\n/);
    assert.match(
      metrics.text,
      /tidemark_query_active_version\{context="notes",projection="author-notes"\} 1\n/,
    );
    assert.match(
      metrics.text,
      /tidemark_query_active_version\{context="listings",projection="listing-detail"\} 1\n/,
    );
    assert.match(metrics.text, /route="\/v1\/authors\/:author\/notes"/);

    const doc = (await get('/openapi.json')).body as unknown as {
      info: { description: string };
      paths: Record<string, { get: { tags: string[]; operationId: string; description: string } }>;
      components: { schemas: Record<string, unknown> };
    };
    assert.match(doc.info.description, /listings, notes/);
    const note = doc.paths['/v1/notes/{noteId}']?.get;
    assert.deepEqual(note?.tags, [NOTES]);
    assert.equal(note?.operationId, 'notesNote');
    assert.match(note?.description ?? '', /queries:read:notes/);
    assert.deepEqual(doc.paths['/v1/authors/{author}/notes']?.get.tags, [NOTES]);
    assert.deepEqual(doc.paths['/v1/listings/{id}']?.get.tags, [CONTEXT]);
    // A view with a zod document schema is described by it; one without, as an object.
    assert.deepEqual(Object.keys((doc.components.schemas.Note as { properties: object }).properties).sort(), [
      'author',
      'edits',
      'id',
      'text',
    ]);
    assert.deepEqual(doc.components.schemas.AuthorNotes, {
      type: 'object',
      description: 'A document of the author-notes view',
    });
  });
});
