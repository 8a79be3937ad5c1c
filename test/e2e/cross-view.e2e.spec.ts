/**
 * The cross-view causal read (issue 5, must show): publish a listing, search with the command's token and find
 * it, then read the detail view (Postgres) and the card (memcached) with the search response's token. Each view
 * has its own projector going at its own pace; the tokens make the second read wait for the first one's state.
 * 5,000 iterations: no 404, no stale answer. The same loop without tokens counts what a client would have seen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpAnswer } from '../support/platform';
import { postCommand, publishPayload, startTestPlatform } from '../support/platform';

const ITERATIONS = Number(process.env.CROSS_VIEW_ITERATIONS ?? 5000);
const UNTOKENED_ITERATIONS = Number(process.env.CROSS_VIEW_UNTOKENED_ITERATIONS ?? 500);
const LOOPS = 16;

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

interface SearchBody {
  data: { total: number; hits: { id: string; listing: Record<string, unknown> }[] };
  token: string;
}

interface Tally {
  iterations: number;
  searchMisses: number;
  detailNotFound: number;
  detailStale: number;
  cardNotFound: number;
  cardStale: number;
  other: string[];
}

describe('cross-view causal read: search, then detail and card', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let query: string;

  before(async () => {
    platform = await startTestPlatform({
      components: ['broker', 'postgres', 'redis', 'memcached', 'search'],
    });
    assert.ok(platform.endpoints.query, 'the platform runs the query API');
    query = platform.endpoints.query;
  });

  after(async () => {
    await platform?.close();
  });

  async function run(iterations: number, withTokens: boolean): Promise<Tally> {
    const runId = `${withTokens ? 't' : 'u'}${Date.now().toString(36)}`;
    const tally: Tally = {
      iterations: 0,
      searchMisses: 0,
      detailNotFound: 0,
      detailStale: 0,
      cardNotFound: 0,
      cardStale: 0,
      other: [],
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: LOOPS }, async (_, loop) => {
        while (next < iterations) {
          const i = next++;
          // A word no other listing has, so the search finds exactly this one.
          const word = `zq${runId}x${loop}x${i}`;
          const id = `cv-${runId}-${loop}-${i}`;
          const price = 1000 + i;
          const payload = {
            ...publishPayload(`seller-${runId}-${loop}`, price),
            title: `Gravel bike ${word}`,
          };
          const command = await postCommand(platform.endpoints.gateway, platform.apiKey, 'listings', {
            type: 'PublishListing',
            aggregateId: id,
            expectedVersion: 'new',
            payload,
          });
          assert.equal(command.status, 200, JSON.stringify(command.body));
          const commandToken = withTokens ? (command.body.token as string) : undefined;

          // Search: with the command's token it must find the listing; without, a client retries until it does
          // (it only clicks what it has seen), which is the moment the detail read below matters.
          let search = await getJson(`${query}/v1/listings/search?q=${word}`, platform.apiKey, commandToken);
          let misses = 0;
          while (search.status === 200 && (search.body as unknown as SearchBody).data.total === 0) {
            if (withTokens) break;
            misses++;
            await new Promise((resolve) => setTimeout(resolve, 5));
            search = await getJson(`${query}/v1/listings/search?q=${word}`, platform.apiKey);
          }
          tally.iterations++;
          if (search.status !== 200) {
            tally.other.push(`search ${search.status} ${JSON.stringify(search.body)}`);
            continue;
          }
          const found = search.body as unknown as SearchBody;
          if (found.data.hits[0]?.id !== id) {
            tally.searchMisses++;
            continue;
          }
          tally.searchMisses += misses > 0 ? 1 : 0;
          const searchToken = withTokens ? found.token : undefined;
          const [detail, card] = await Promise.all([
            getJson(`${query}/v1/listings/${id}`, platform.apiKey, searchToken),
            getJson(`${query}/v1/listings/${id}/card`, platform.apiKey, searchToken),
          ]);
          for (const [answer, view] of [
            [detail, 'detail'],
            [card, 'card'],
          ] as const) {
            if (answer.status === 404) {
              if (view === 'detail') tally.detailNotFound++;
              else tally.cardNotFound++;
            } else if (answer.status !== 200) {
              tally.other.push(`${view} ${answer.status} ${JSON.stringify(answer.body)}`);
            } else if ((answer.body.data as Record<string, unknown>).priceCents !== price) {
              if (view === 'detail') tally.detailStale++;
              else tally.cardStale++;
            }
          }
        }
      }),
    );
    return tally;
  }

  it(`${ITERATIONS} iterations with tokens: the search finds each listing, the detail and card never 404`, async (t) => {
    const tally = await run(ITERATIONS, true);
    t.diagnostic(JSON.stringify(tally));
    assert.deepEqual(tally.other.slice(0, 3), []);
    assert.equal(tally.iterations, ITERATIONS);
    assert.equal(tally.searchMisses, 0, 'a search with the command token missed the listing');
    assert.equal(tally.detailNotFound + tally.cardNotFound, 0, '404 after a search hit');
    assert.equal(tally.detailStale + tally.cardStale, 0, 'stale answer after a search hit');
  });

  it('the same loop without tokens: how many misses, 404s and stale answers a client would have seen', async (t) => {
    const tally = await run(UNTOKENED_ITERATIONS, false);
    t.diagnostic(JSON.stringify(tally));
    assert.deepEqual(tally.other.slice(0, 3), []);
    assert.equal(tally.iterations, UNTOKENED_ITERATIONS);
  });
});
