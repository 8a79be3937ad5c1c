import type { KafkaConfig } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import type { BrokerOptions, RunningBroker } from '../../src';
import { startBroker } from '../../src';
import { makeTempDir } from './temp-dir';

export interface TestBroker {
  broker: RunningBroker;
  dataDir: string;
  kafka(config?: Partial<KafkaConfig>): Kafka;
  /** Stops the broker and removes its data. */
  close(): Promise<void>;
}

/** An in-process broker on a free port with a throw-away data directory. */
export async function startTestBroker(options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const dir = await makeTempDir('broker');
  const broker = await startBroker({
    port: 0,
    logLevel: 'warn',
    ...options,
    dataDir: options.dataDir ?? dir.path,
  });
  return {
    broker,
    dataDir: dir.path,
    kafka: (config = {}) => kafkaClient(broker.bootstrap, config),
    async close() {
      await broker.stop();
      await dir.remove();
    },
  };
}

export function kafkaClient(bootstrap: string, config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'tidemark-test',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 1000 },
    ...config,
  });
}

/** Polls until the predicate holds or the deadline passes (then throws with the description). */
export async function waitFor(
  description: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
