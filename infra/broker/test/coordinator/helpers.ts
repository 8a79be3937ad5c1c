import type { BrokerConfig } from '../../src/contracts';
import { DEFAULT_BROKER_CONFIG } from '../../src/server/config';

export function testConfig(overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  return {
    ...DEFAULT_BROKER_CONFIG,
    port: 0,
    dataDir: '',
    nodeId: 0,
    clusterId: 'coordinator-test',
    segmentBytes: 1024 * 1024,
    groupMaxSessionTimeoutMs: 300_000,
    transactionAbortCheckIntervalMs: 60_000,
    ...overrides,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until the predicate holds or the time runs out. */
export async function eventually(
  predicate: () => boolean,
  timeoutMs = 3000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
