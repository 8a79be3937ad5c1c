/**
 * Causal read-your-writes (issue 4, must show): a command, then at once a read of each view (Postgres detail,
 * memcached card, Redis seller counters) with the command's token. 5,000 iterations: no stale answer, no 404.
 * The same loop without the token counts the stale answers and 404s a client would have seen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpAnswer } from '../support/platform';
import { postCommand, publishPayload, startTestPlatform } from '../support/platform';

const ITERATIONS = Number(process.env.RYW_ITERATIONS ?? 5000);
const UNTOKENED_ITERATIONS = Number(process.env.RYW_UNTOKENED_ITERATIONS ?? 600);
const LOOPS = 16;

interface Tally {
  reads: number;
  stale: number;
  notFound: number;
  other: string[];
}

const tally = (): Tally => ({ reads: 0, stale: 0, notFound: 0, other: [] });

async function getJson(url: string, apiKey: string, token?: string): Promise<HttpAnswer> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${apiKey}`, ...(token ? { 'consistency-token': token } : {}) },
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

describe('read-your-writes across the Postgres, memcached and Redis views', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let query: string;

  before(async () => {
    platform = await startTestPlatform({ components: ['broker', 'postgres', 'redis', 'memcached'] });
    assert.ok(platform.endpoints.query, 'the platform runs the query API');
    query = platform.endpoints.query;
  });

  after(async () => {
    await platform?.close();
  });

  /**
   * LOOPS concurrent clients; each owns one seller and alternates between publishing a listing and changing the
   * price of its latest one, and after every command reads the three views (with or without the token) and
   * compares them with what it knows it wrote.
   */
  async function run(iterations: number, withToken: boolean, runId: string) {
    const detail = tally();
    const card = tally();
    const stats = tally();
    let next = 0;
    const check = (t: Tally, answer: HttpAnswer, fresh: (data: Record<string, unknown>) => boolean) => {
      t.reads++;
      if (answer.status === 404) t.notFound++;
      else if (answer.status !== 200) t.other.push(`${answer.status} ${JSON.stringify(answer.body)}`);
      else if (!fresh(answer.body.data as Record<string, unknown>)) t.stale++;
    };
    await Promise.all(
      Array.from({ length: LOOPS }, async (_, loop) => {
        const seller = `seller-${runId}-${loop}`;
        let listings = 0;
        let current = '';
        let price = 0;
        let version = 0;
        let askingTotal = 0;
        for (let i = 0; next < iterations; i++) {
          next++;
          const publish = i % 2 === 0;
          let answer: HttpAnswer;
          if (publish) {
            current = `l-${runId}-${loop}-${listings}`;
            price = 1000 + listings;
            answer = await postCommand(platform.endpoints.gateway, platform.apiKey, 'listings', {
              type: 'PublishListing',
              aggregateId: current,
              expectedVersion: 'new',
              payload: publishPayload(seller, price),
            });
            listings++;
            askingTotal += price;
          } else {
            const newPrice = price + 7;
            answer = await postCommand(platform.endpoints.gateway, platform.apiKey, 'listings', {
              type: 'ChangePrice',
              aggregateId: current,
              expectedVersion: version,
              payload: { priceCents: newPrice },
            });
            askingTotal += newPrice - price;
            price = newPrice;
          }
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          version = answer.body.aggregateVersion as number;
          const token = withToken ? (answer.body.token as string) : undefined;
          const expectedPrice = price;
          const expectedVersion = version;
          const expectedListings = listings;
          const expectedTotal = askingTotal;
          const [d, c, s] = await Promise.all([
            getJson(`${query}/v1/listings/${current}`, platform.apiKey, token),
            getJson(`${query}/v1/listings/${current}/card`, platform.apiKey, token),
            getJson(`${query}/v1/sellers/${seller}/stats`, platform.apiKey, token),
          ]);
          check(detail, d, (data) => data.version === expectedVersion && data.priceCents === expectedPrice);
          check(card, c, (data) => data.priceCents === expectedPrice);
          check(stats, s, (data) => {
            const value = data.askingValueCents as Record<string, number> | undefined;
            return data.activeListings === expectedListings && value?.EUR === expectedTotal;
          });
        }
      }),
    );
    return { detail, card, stats };
  }

  it(`${ITERATIONS} command-then-read iterations with the token: no stale answer, no 404`, async (t) => {
    const result = await run(ITERATIONS, true, `t${Date.now().toString(36)}`);
    for (const [view, r] of Object.entries(result)) {
      t.diagnostic(`${view}: ${r.reads} reads, ${r.stale} stale, ${r.notFound} not found`);
      assert.deepEqual(r.other, [], `${view}: unexpected answers`);
      assert.ok(r.reads >= ITERATIONS, `${view}: ${r.reads} reads`);
      assert.equal(r.stale, 0, `${view}: stale answers with a token`);
      assert.equal(r.notFound, 0, `${view}: 404s with a token`);
    }
  });

  it('the same loop without the token: how many stale answers and 404s a client would see', async (t) => {
    const result = await run(UNTOKENED_ITERATIONS, false, `u${Date.now().toString(36)}`);
    for (const [view, r] of Object.entries(result)) {
      t.diagnostic(`${view} without token: ${r.reads} reads, ${r.stale} stale, ${r.notFound} not found`);
      assert.deepEqual(r.other, [], `${view}: unexpected answers`);
      assert.ok(r.reads >= UNTOKENED_ITERATIONS);
    }
  });
});
