/**
 * The SDK's define functions on a tiny "counters" context: what they build, and every definition mistake they
 * refuse when a deployment loads (a bad name, an event the context lacks, a filter on an unmapped field, a
 * normalised filter without its multi-field, views of another context, colliding routes, duplicate names).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EventEnvelope } from '@tidemark/schemas';
import { z } from 'zod';
import {
  BusinessRuleViolation,
  type CommandOf,
  type Decider,
  defineContext,
  defineDeployment,
  defineProjection,
  defineQueries,
  documentQuery,
  type EventOf,
  isDeployment,
  keyword,
  long,
  searchQuery,
  text,
  unhandled,
  versioned,
  withVersion,
} from '../src/index';
import { DeciderSpecification, ProjectionSpecification } from '../src/testing/index';

const CounterCreatedV1 = z.object({ owner: z.string() });
const CounterCreated = CounterCreatedV1.extend({ label: z.string() });
const events = {
  CounterCreated: versioned(CounterCreatedV1).next(CounterCreated, (v1) => ({ ...v1, label: 'unnamed' })),
  Incremented: z.object({ owner: z.string(), by: z.int().positive() }),
};
const commands = {
  Create: z.strictObject({ owner: z.string(), label: z.string().default('unnamed') }),
  Increment: z.strictObject({ by: z.int().positive() }),
};
type State = { owner: string } | null;
const decider: Decider<CommandOf<typeof commands>, EventOf<typeof events>, State> = {
  initialState: () => null,
  decide(command, state) {
    switch (command.type) {
      case 'Create':
        if (state) throw new BusinessRuleViolation('COUNTER_EXISTS', 'created already');
        return [{ type: 'CounterCreated', payload: command.payload }];
      case 'Increment':
        if (!state) throw new BusinessRuleViolation('COUNTER_NOT_FOUND', 'no such counter');
        return [{ type: 'Incremented', payload: { owner: state.owner, by: command.payload.by } }];
      default:
        return unhandled(command);
    }
  },
  evolve: (state, event) => (event.type === 'CounterCreated' ? { owner: event.payload.owner } : state),
};
const counters = defineContext({
  name: 'counters',
  aggregateType: 'counter',
  commands,
  events,
  decider,
  aggregateId: z.string().regex(/^c-\d+$/),
});

type CounterDoc = { id: string; owner: string; label: string; total: number };
const counterView = defineProjection({
  context: counters,
  name: 'counter-view',
  store: 'elasticsearch',
  events: ['CounterCreated', 'Incremented'],
  apply: (current: CounterDoc | null, event): CounterDoc | null => {
    if (event.type === 'CounterCreated') {
      return { id: event.aggregate.id, owner: event.payload.owner, label: event.payload.label, total: 0 };
    }
    return current ? { ...current, total: current.total + event.payload.by } : null;
  },
  search: {
    mappings: { id: keyword(), owner: keyword({ normalizer: 'lowercase' }), label: text(), total: long() },
  },
});
type OwnerTotals = { owner: string; total: number };
const ownerTotals = defineProjection({
  context: counters,
  name: 'owner-totals',
  store: 'redis',
  keyScope: 'all',
  events: ['Incremented'],
  key: (event) => event.payload.owner,
  apply: (current: OwnerTotals | null, event, key) => ({
    owner: key,
    total: (current?.total ?? 0) + event.payload.by,
  }),
  merge: (parts) => ({
    owner: parts[0]?.owner ?? '',
    total: parts.reduce((sum, part) => sum + part.total, 0),
  }),
});

const v1Envelope = (id: string, owner: string): EventEnvelope => ({
  id: '00000000-0000-7000-8000-000000000001',
  type: 'CounterCreated',
  schemaVersion: 1,
  aggregate: { type: 'counter', id },
  version: 1,
  commandId: 'c',
  correlationId: 'c',
  causationId: 'c',
  occurredAt: '2025-01-01T00:00:00.000Z',
  payload: { owner },
});

describe('defineContext', () => {
  test('builds the registries: versioned events upcast, commands validated', () => {
    assert.equal(counters.events.latestVersion('CounterCreated'), 2);
    assert.deepEqual(counters.events.read('CounterCreated', 1, { owner: 'ann' }), {
      owner: 'ann',
      label: 'unnamed',
    });
    assert.deepEqual(counters.commands.validate('Create', { owner: 'ann' }), {
      owner: 'ann',
      label: 'unnamed',
    });
    assert.equal(counters.aggregateId?.safeParse('c-1').success, true);
    assert.equal(counters.aggregateId?.safeParse('x\u0000').success, false);
  });

  test('refuses a name that cannot name topics', () => {
    assert.throws(
      () => defineContext({ name: 'Counters!', aggregateType: 'c', commands, events, decider }),
      /context name/,
    );
  });

  test('DeciderSpecification.forContext applies command defaults and checks emitted events', () => {
    DeciderSpecification.forContext(counters)
      .given([])
      .when({ type: 'Create', payload: { owner: 'ann' } as { owner: string; label: string } })
      .then([{ type: 'CounterCreated', payload: { owner: 'ann', label: 'unnamed' } }]);
    DeciderSpecification.forContext(counters)
      .given([])
      .when({ type: 'Increment', payload: { by: 1 } })
      .thenThrows('COUNTER_NOT_FOUND');
  });
});

describe('defineProjection', () => {
  test('apply sees payloads in their latest version, also from an envelope recorded at v1', () => {
    ProjectionSpecification.for(counters, counterView)
      .givenLog([{ partition: 0, offset: 0, event: v1Envelope('c-1', 'ann') }])
      .then('c-1', { id: 'c-1', owner: 'ann', label: 'unnamed', total: 0 });
  });

  test('a gathering view keeps a sub-document per partition and a read merges them', () => {
    const then = ProjectionSpecification.for(counters, ownerTotals).given([
      { aggregateId: 'c-1', type: 'CounterCreated', payload: { owner: 'ann', label: 'a' } },
      { aggregateId: 'c-1', type: 'Incremented', payload: { owner: 'ann', by: 2 }, partition: 0 },
      { aggregateId: 'c-2', type: 'Incremented', payload: { owner: 'ann', by: 5 }, partition: 3 },
    ]);
    then.then('ann', { owner: 'ann', total: 7 }).then('bob', null);
    assert.equal(then.log.filter((entry) => entry.partition === 3).length, 1);
  });

  test('refuses an event type the context does not have, and a bad name or version', () => {
    const base = { context: counters, store: 'postgres' as const, apply: () => null };
    assert.throws(
      () => defineProjection({ ...base, name: 'x', events: ['Nope' as 'Incremented'] }),
      /has no event type 'Nope'/,
    );
    assert.throws(
      () => defineProjection({ ...base, name: 'Bad Name', events: ['Incremented'] }),
      /projection name/,
    );
    assert.throws(() => withVersion(counterView, 0), /version/);
    assert.equal(withVersion(counterView, 2).version, 2);
  });
});

describe('defineQueries', () => {
  test('names the queries and keeps the route definitions', () => {
    const queries = defineQueries(counters, {
      counter: documentQuery(counterView, { path: '/v1/counters/:id', notFound: 'COUNTER_NOT_FOUND' }),
      totals: documentQuery(ownerTotals, { path: '/v1/owners/:owner/totals', notFound: 'OWNER_NOT_FOUND' }),
      search: searchQuery(counterView, {
        path: '/v1/counters/search',
        hit: 'counter',
        text: { fields: ['label'] },
        filters: { owner: { kind: 'term', field: 'owner', normalizer: 'lowercase' } },
        facets: { owner: { field: 'owner' } },
      }),
    });
    assert.deepEqual(
      queries.list.map((q) => [q.name, q.context, q.path]),
      [
        ['counter', 'counters', '/v1/counters/:id'],
        ['totals', 'counters', '/v1/owners/:owner/totals'],
        ['search', 'counters', '/v1/counters/search'],
      ],
    );
    const totals = queries.queries.totals;
    assert.equal(totals.kind === 'document' && totals.param, 'owner');
  });

  test('refuses definitions that cannot be served', () => {
    assert.throws(
      () => documentQuery(counterView, { path: '/v1/counters', notFound: 'COUNTER_NOT_FOUND' }),
      /exactly one :parameter/,
    );
    assert.throws(
      () => documentQuery(counterView, { path: 'counters/:id', notFound: 'X_NOT_FOUND' }),
      /\/v1\//,
    );
    assert.throws(
      () =>
        searchQuery(counterView, {
          path: '/v1/counters/search',
          hit: 'counter',
          filters: { colour: { kind: 'term', field: 'colour' } },
        }),
      /not mapped/,
    );
    assert.throws(
      () =>
        searchQuery(counterView, {
          path: '/v1/counters/search',
          hit: 'counter',
          filters: { label: { kind: 'term', field: 'id', normalizer: 'lowercase' } },
        }),
      /multi-field/,
    );
    assert.throws(
      () => searchQuery(ownerTotals, { path: '/v1/owners/search', hit: 'owner' }),
      /not a search view/,
    );
    assert.throws(
      () =>
        defineQueries(counters, {
          a: documentQuery(counterView, { path: '/v1/counters/:id', notFound: 'COUNTER_NOT_FOUND' }),
          b: documentQuery(counterView, { path: '/v1/counters/:key', notFound: 'COUNTER_NOT_FOUND' }),
        }),
      /has the path/,
    );
  });
});

describe('defineDeployment', () => {
  const queries = defineQueries(counters, {
    counter: documentQuery(counterView, { path: '/v1/counters/:id', notFound: 'COUNTER_NOT_FOUND' }),
  });
  const other = defineContext({ name: 'others', aggregateType: 'other', commands, events, decider });
  const otherView = defineProjection({
    context: other,
    name: 'counter-view',
    store: 'postgres',
    events: ['Incremented'],
    apply: () => null,
  });

  test('is recognised by the loader, with its catalog', () => {
    const deployment = defineDeployment({
      contexts: [{ context: counters, projections: [counterView, ownerTotals], queries }],
      catalog: [withVersion(counterView, 2)],
    });
    assert.ok(isDeployment(deployment));
    assert.equal(deployment.catalog.length, 1);
  });

  test('refuses duplicate contexts, shared projection names, foreign views and colliding routes', () => {
    assert.throws(
      () =>
        defineDeployment({
          contexts: [
            { context: counters, projections: [] },
            { context: counters, projections: [] },
          ],
        }),
      /hosted twice/,
    );
    assert.throws(
      () =>
        defineDeployment({
          contexts: [
            { context: counters, projections: [counterView] },
            { context: other, projections: [otherView] },
          ],
        }),
      /is used by contexts counters and others/,
    );
    assert.throws(
      () => defineDeployment({ contexts: [{ context: counters, projections: [], queries }] }),
      /reads counter-view, which it does not host/,
    );
    const otherQueries = defineQueries(other, {
      counter: documentQuery(
        defineProjection({
          context: other,
          name: 'other-view',
          store: 'postgres',
          events: ['Incremented'],
          apply: () => null,
        }),
        { path: '/v1/counters/:key', notFound: 'OTHER_NOT_FOUND' },
      ),
    });
    assert.throws(
      () =>
        defineDeployment({
          contexts: [
            { context: counters, projections: [counterView], queries },
            { context: other, projections: otherQueries.list.map((q) => q.view), queries: otherQueries },
          ],
        }),
      /collides with counters.counter/,
    );
  });
});
