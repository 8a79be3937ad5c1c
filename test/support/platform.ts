/** Starts the platform for an end-to-end suite: free ports, a throw-away data dir, short group timeouts. */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Platform, PlatformOptions } from '@tidemark/ops';
import { startPlatform } from '@tidemark/ops';
import pino from 'pino';
import { repoDeployment } from './deployment';

export const TEST_PARTITIONS = 4;

export async function startTestPlatform(
  overrides: Partial<PlatformOptions> = {},
): Promise<Platform & { dataDir: string; close(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-e2e-'));
  await chmod(dataDir, 0o755);
  const platform = await startPlatform({
    deployment: await repoDeployment(),
    dataDir,
    logger: pino({ level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
    components: ['broker'],
    ports: { broker: 0 },
    metricsPort: null,
    partitions: TEST_PARTITIONS,
    // Search writes are acknowledged once searchable (refresh=wait_for): a short interval keeps tests quick.
    searchRefreshIntervalMs: 50,
    processor: { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, snapshotEveryEvents: 500 },
    ...overrides,
  });
  return {
    ...platform,
    dataDir,
    async close() {
      await platform.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POSTs a command to the gateway. */
export async function postCommand(
  gateway: string,
  apiKey: string | null,
  context: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${gateway}/v1/contexts/${context}/commands`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

export function publishPayload(seller: string, priceCents: number, category = 'bikes') {
  return {
    sellerId: seller,
    title: `Bike of ${seller}`,
    description: 'Steel frame, good condition',
    category,
    priceCents,
    currency: 'EUR',
    location: { country: 'NL', city: 'Utrecht' },
  };
}
