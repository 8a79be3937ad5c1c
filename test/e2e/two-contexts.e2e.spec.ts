/**
 * Issue 14, must show: both example contexts in one `tidemark up` platform, through the same generic code paths
 * (the gateway, processors, projectors, the query API built from each context's query definitions, the admin API).
 * Commands of both contexts, a refused business rule, token reads of every view of each (invariant 3: a read
 * carrying token T reflects every event below T), case-insensitive search filters, tokens that belong to one
 * context only, read scopes per context; and a replay + diff + cutover + rollback of a tickets projection whose
 * version 1 has a deliberate bug (test/support/ticket-bug-catalog.ts), with reads that never go backwards
 * (invariant 4) and a diff that names exactly the documents the bug affected.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeToken } from '@tidemark/schemas';
import type { HttpAnswer } from '../support/platform';
import { postCommand, publishPayload, startTestPlatform } from '../support/platform';

const CATALOG = resolve(__dirname, '../support/ticket-bug-catalog.js');
const LISTINGS_ONLY = {
  id: 'listings-reader',
  secret: 'listings-reader-secret',
  scopes: ['queries:read:listings'],
};
const TICKETS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two contexts in one platform', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let query: string;
  let admin: string;
  const tokens: Record<string, string> = {};

  const send = async (context: string, body: Record<string, unknown>): Promise<HttpAnswer> => {
    // A retryable answer (pending, log unavailable) is retried with the same command id, as a client would.
    for (let attempt = 0; ; attempt++) {
      const answer = await postCommand(platform.gateway.url, platform.apiKey, context, body);
      const error = answer.body.error as { retryable?: boolean } | undefined;
      if (!error?.retryable || attempt >= 20) return answer;
      await sleep(200);
    }
  };
  const command = async (context: string, body: Record<string, unknown>) => {
    const answer = await send(context, {
      commandId: `${context}-${body.type}-${body.aggregateId}-${Math.random()}`,
      ...body,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    tokens[context] = answer.body.token as string;
    return answer;
  };
  const read = async (path: string, token: string | undefined, key = platform.apiKey) => {
    const response = await fetch(`${query}${path}`, {
      headers: { authorization: `Bearer ${key}`, ...(token ? { 'consistency-token': token } : {}) },
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const adminCall = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${admin}${path}`, {
      method,
      headers: { authorization: `Bearer ${platform.apiKey}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  before(async () => {
    platform = await startTestPlatform({
      components: ['broker', 'postgres', 'redis', 'memcached', 'search'],
      catalogModule: CATALOG,
      gateway: { apiKeys: [LISTINGS_ONLY] },
    });
    query = platform.query?.url as string;
    admin = platform.admin?.url as string;
    assert.ok(query && admin, 'the platform runs the query and admin APIs');
  });

  after(async () => {
    await platform?.close();
  });

  it('takes commands of both contexts and refuses a broken rule of each', async () => {
    await command('listings', {
      type: 'PublishListing',
      aggregateId: 'listing-berlin',
      expectedVersion: 'new',
      payload: { ...publishPayload('seller-9', 12_000, 'Home'), location: { country: 'DE', city: 'Berlin' } },
    });
    await command('listings', {
      type: 'PublishListing',
      aggregateId: 'listing-utrecht',
      expectedVersion: 'new',
      payload: publishPayload('seller-9', 30_000),
    });
    for (let i = 0; i < TICKETS; i++) {
      const id = `ticket-${i}`;
      await command('tickets', {
        type: 'OpenTicket',
        aggregateId: id,
        expectedVersion: 'new',
        payload: {
          requesterId: `customer-${i}`,
          subject: i % 2 === 0 ? 'Login fails' : 'Invoice is wrong',
          body: 'Please help',
          priority: i === 0 ? 'urgent' : 'normal',
          tags: i % 2 === 0 ? ['Login'] : ['billing'],
        },
      });
      await command('tickets', {
        type: 'AssignTicket',
        aggregateId: id,
        payload: { agentId: `agent-${i % 2}` },
      });
    }
    for (let i = 0; i < 4; i++) {
      await command('tickets', {
        type: 'ResolveTicket',
        aggregateId: `ticket-${i}`,
        payload: { resolution: 'Fixed', resolvedBy: `agent-${i % 2}` },
      });
    }
    // Tickets 0 and 1 are reopened: version 1 of ticket-detail (the bug) does not see it.
    for (const id of ['ticket-0', 'ticket-1']) {
      await command('tickets', {
        type: 'ReopenTicket',
        aggregateId: id,
        payload: { reason: 'Still broken' },
      });
    }
    const refusedTicket = await send('tickets', {
      type: 'ReopenTicket',
      aggregateId: 'ticket-5',
      payload: { reason: 'It was never resolved' },
    });
    assert.equal(refusedTicket.status, 422);
    assert.equal((refusedTicket.body.error as { code: string }).code, 'TICKET_NOT_RESOLVED');
    const refusedListing = await send('listings', {
      type: 'ChangePrice',
      aggregateId: 'listing-nowhere',
      payload: { priceCents: 100 },
    });
    assert.equal(refusedListing.status, 422);
    assert.equal((refusedListing.body.error as { code: string }).code, 'LISTING_NOT_FOUND');
  });

  it('reads every view of each context at the command token', async () => {
    const listing = await read('/v1/listings/listing-berlin', tokens.listings);
    assert.equal(listing.status, 200);
    assert.equal((listing.body.data as { priceCents: number }).priceCents, 12_000);
    const card = await read('/v1/listings/listing-berlin/card', tokens.listings);
    assert.equal(card.status, 200);
    assert.equal((card.body.data as { city: string }).city, 'Berlin');
    const stats = await read('/v1/sellers/seller-9/stats', tokens.listings);
    assert.deepEqual((stats.body.data as { askingValueCents: unknown }).askingValueCents, { EUR: 42_000 });
    // Keyword filters are case-insensitive; facets keep the stored values.
    const search = await read('/v1/listings/search?city=berlin&country=de&category=home', tokens.listings);
    assert.equal(search.status, 200, JSON.stringify(search.body));
    const found = search.body.data as {
      total: number;
      hits: { id: string }[];
      facets: { category: { key: string }[] };
    };
    assert.deepEqual(
      found.hits.map((hit) => hit.id),
      ['listing-berlin'],
    );
    assert.deepEqual(
      found.facets.category.map((bucket) => bucket.key),
      ['Home'],
    );

    const ticket = await read('/v1/tickets/ticket-2', tokens.tickets);
    assert.equal(ticket.status, 200);
    assert.equal((ticket.body.data as { status: string }).status, 'resolved');
    const summary = await read('/v1/tickets/ticket-4/summary', tokens.tickets);
    assert.equal(summary.status, 200);
    assert.equal((summary.body.data as { assigneeId: string }).assigneeId, 'agent-0');
    const workload = await read('/v1/agents/agent-0/workload', tokens.tickets);
    assert.equal(workload.status, 200);
    // agent-0 has tickets 0 (resolved, then reopened), 2 (resolved) and 4 (open).
    assert.deepEqual(
      {
        open: (workload.body.data as { open: number }).open,
        resolved: (workload.body.data as { resolved: number }).resolved,
      },
      { open: 2, resolved: 1 },
    );
    const ticketSearch = await read('/v1/tickets/search?q=login&tag=LOGIN&status=open', tokens.tickets);
    assert.equal(ticketSearch.status, 200, JSON.stringify(ticketSearch.body));
    assert.deepEqual(
      (ticketSearch.body.data as { hits: { id: string }[] }).hits.map((hit) => hit.id).sort(),
      ['ticket-0', 'ticket-4'],
    );
    const missing = await read('/v1/tickets/ticket-99', tokens.tickets);
    assert.equal(missing.status, 404);
    assert.equal((missing.body.error as { code: string }).code, 'TICKET_NOT_FOUND');
  });

  it('keeps each context to its own tokens and scopes', async () => {
    const foreign = await read('/v1/tickets/ticket-0', tokens.listings);
    assert.equal(foreign.status, 400);
    assert.equal((foreign.body.error as { code: string }).code, 'TOKEN_FOREIGN');
    const allowed = await read('/v1/listings/listing-utrecht', tokens.listings, LISTINGS_ONLY.secret);
    assert.equal(allowed.status, 200);
    const forbidden = await read('/v1/tickets/ticket-0', tokens.tickets, LISTINGS_ONLY.secret);
    assert.equal(forbidden.status, 403);
    assert.equal((forbidden.body.error as { code: string }).code, 'FORBIDDEN');
    const misspelt = await read('/v1/tickets/search?stauts=open', tokens.tickets);
    assert.equal(misspelt.status, 400);
    assert.deepEqual(misspelt.body.error, {
      code: 'INVALID_QUERY_PARAMETER',
      message: (misspelt.body.error as { message: string }).message,
      retryable: false,
      details: { parameter: 'stauts' },
    });
  });

  it('replays a fixed tickets projection, diffs, cuts over and rolls back through the admin API', async () => {
    // The bug is visible through v1.
    const before = await read('/v1/tickets/ticket-0', tokens.tickets);
    assert.equal((before.body.data as { status: string }).status, 'resolved');
    assert.equal(before.headers.get('consistency-version'), '1');

    const started = await adminCall('POST', '/v1/admin/projections/ticket-detail/replays', {
      version: 2,
      reason: 'e2e',
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.context, 'tickets');
    let job = started.body;
    for (let i = 0; i < 600 && job.state === 'running'; i++) {
      await sleep(100);
      job = (await adminCall('GET', `/v1/admin/replays/${job.job as string}`)).body;
    }
    assert.equal(job.state, 'live', JSON.stringify(job));

    const diff = await adminCall('GET', '/v1/admin/projections/ticket-detail/diff?a=1&b=2&sample=10');
    assert.equal(diff.status, 200, JSON.stringify(diff.body));
    const result = diff.body as {
      differing: number;
      onlyInA: number;
      onlyInB: number;
      equal: number;
      sample: { key: string }[];
    };
    assert.deepEqual(
      { differing: result.differing, onlyInA: result.onlyInA, onlyInB: result.onlyInB, equal: result.equal },
      { differing: 2, onlyInA: 0, onlyInB: 0, equal: TICKETS - 2 },
    );
    assert.deepEqual(result.sample.map((entry) => entry.key).sort(), ['ticket-0', 'ticket-1']);

    const cutover = await adminCall('POST', '/v1/admin/projections/ticket-detail/cutover', {
      to: 2,
      reason: 'the fix',
    });
    assert.equal(cutover.status, 200, JSON.stringify(cutover.body));
    const fixed = await readUntilVersion('/v1/tickets/ticket-0', 2);
    assert.equal((fixed.body.data as { status: string; reopenCount: number }).status, 'open');
    assert.equal((fixed.body.data as { reopenCount: number }).reopenCount, 1);

    const rollback = await adminCall('POST', '/v1/admin/projections/ticket-detail/rollback', {
      reason: 'e2e',
    });
    assert.equal(rollback.status, 200, JSON.stringify(rollback.body));
    const rolledBack = await readUntilVersion('/v1/tickets/ticket-0', 1);
    assert.equal((rolledBack.body.data as { status: string }).status, 'resolved');
    // Listings' views were untouched by the tickets operations.
    const listing = await read('/v1/listings/listing-utrecht', tokens.listings);
    assert.equal(listing.headers.get('consistency-version'), '1');
  });

  /** Reads (carrying the merged token) until the answer comes from `version`; watermarks must never go back. */
  async function readUntilVersion(path: string, version: number) {
    let token = tokens.tickets;
    let last = decodeToken(token as string);
    for (let i = 0; i < 100; i++) {
      const answer = await read(path, token);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const next = decodeToken(answer.body.token as string);
      for (const [partition, offset] of last.positions) {
        assert.ok(
          (next.positions.get(partition) ?? 0) >= offset,
          `the watermark of partition ${partition} went back`,
        );
      }
      last = next;
      token = answer.body.token as string;
      if (answer.headers.get('consistency-version') === String(version)) return answer;
      await sleep(50);
    }
    throw new Error(`${path} was not answered by version ${version}`);
  }
});
