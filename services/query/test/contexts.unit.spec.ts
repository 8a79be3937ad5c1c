/**
 * The contexts a query API serves, checked when it is built (pure): each context once, with its own read scope;
 * every query given to its own context; no two routes of any contexts that route alike (a notes query on
 * `/v1/listings/:key` would shadow or be shadowed by listings); and the engine's route table. (The request
 * metric's route labels are the templates Fastify matched: contexts-http.int.spec.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineQueries, documentQuery } from '@tidemark/sdk';
import pino from 'pino';
import type { QueryContext } from '../src';
import { QueryEngine, QueryMetrics, resolveOptions } from '../src';
import { MemoryBus, MemoryControl } from './support/fakes';
import { NotesWorld, noteProjection, notesContext } from './support/notes';
import { ListingsWorld } from './support/world';

const logger = pino({ level: 'silent' });
const control = new MemoryControl();
const bus = new MemoryBus();
const listings = new ListingsWorld();
const notes = new NotesWorld(control, bus);
const resolve = (contexts: QueryContext[]) => resolveOptions({ apiKeys: [], contexts, control, bus });

describe('contexts served by one query API', () => {
  test('each context with its read scope; its identity as a lookup', async () => {
    const resolved = resolve([listings.context(), notes.context()]);
    assert.deepEqual(
      resolved.contexts.map((c) => [c.name, c.readScope, c.partitions]),
      [
        ['listings', 'queries:read:listings', 3],
        ['notes', 'queries:read:notes', 2],
      ],
    );
    assert.equal(await resolved.contexts[1]?.topicIdentity(), 'abcdefabcdef0123');
  });

  test('refused: a context twice, a bad topic identity, bad partitions, a query of another context', () => {
    assert.throws(
      () => resolve([listings.context(), listings.context()]),
      /context 'listings' is served twice/,
    );
    assert.throws(() => resolve([notes.context({ topicIdentity: 'NOT-HEX' })]), /topicIdentity must be 16/);
    assert.throws(() => resolve([notes.context({ partitions: 0 })]), /partitions must be a positive integer/);
    assert.throws(
      () => resolve([notes.context({ queries: listings.context().queries })]),
      /query listing of listings is given to context notes/,
    );
  });

  test('refused: routes of two contexts that route alike (parameter names do not matter)', () => {
    const clash = defineQueries(notesContext, {
      shadowing: documentQuery(noteProjection, { path: '/v1/listings/:key', notFound: 'NOTE_NOT_FOUND' }),
    });
    assert.throws(
      () => resolve([listings.context(), notes.context({ queries: clash.list })]),
      /query path \/v1\/listings\/:key of notes collides with listings\.listing/,
    );
  });

  test("the engine's routes: every context's queries, in order; an unknown context is refused", () => {
    const engine = new QueryEngine(
      resolve([listings.context(), notes.context()]),
      new QueryMetrics(),
      logger,
    );
    assert.deepEqual(
      engine.routes().map((q) => `${q.context}.${q.name} ${q.path}`),
      [
        'listings.listing /v1/listings/:id',
        'listings.card /v1/listings/:id/card',
        'listings.sellerStats /v1/sellers/:id/stats',
        'listings.search /v1/listings/search',
        'notes.note /v1/notes/:noteId',
        'notes.authorNotes /v1/authors/:author/notes',
      ],
    );
    assert.equal(engine.context('notes').context.name, 'notes');
    assert.throws(() => engine.context('orders'), /does not serve context 'orders'/);
  });
});
