import type { BrokerConfig } from '../../src/contracts';

export function testConfig(overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    dataDir: '',
    nodeId: 0,
    clusterId: 'coordinator-test',
    autoCreateTopics: true,
    defaultPartitions: 1,
    maxFrameBytes: 100 * 1024 * 1024,
    segmentBytes: 1024 * 1024,
    retentionBytes: null,
    retentionMs: null,
    groupInitialRebalanceDelayMs: 0,
    groupMinSessionTimeoutMs: 100,
    groupMaxSessionTimeoutMs: 300_000,
    transactionMaxTimeoutMs: 900_000,
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
