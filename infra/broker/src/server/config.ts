import { resolve } from 'node:path';
import type { BrokerConfig } from '../contracts';

/** Defaults follow Kafka's where they matter to clients; retention is off unless asked for. */
export const DEFAULT_BROKER_CONFIG: Omit<BrokerConfig, 'dataDir' | 'clusterId'> = {
  host: '127.0.0.1',
  port: 9092,
  nodeId: 1,
  autoCreateTopics: true,
  defaultPartitions: 1,
  maxFrameBytes: 100 * 1024 * 1024,
  segmentBytes: 128 * 1024 * 1024,
  retentionBytes: null,
  retentionMs: null,
  groupInitialRebalanceDelayMs: 0,
  groupMinSessionTimeoutMs: 100,
  groupMaxSessionTimeoutMs: 30 * 60 * 1000,
  transactionMaxTimeoutMs: 15 * 60 * 1000,
  transactionAbortCheckIntervalMs: 1000,
};

export function resolveBrokerConfig(
  options: Partial<BrokerConfig> & { dataDir: string },
  clusterId: string,
): BrokerConfig {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const config: BrokerConfig = {
    ...DEFAULT_BROKER_CONFIG,
    clusterId,
    ...defined,
    dataDir: resolve(options.dataDir),
  };
  validateBrokerConfig(config);
  return config;
}

function validateBrokerConfig(config: BrokerConfig): void {
  const problems: string[] = [];
  const positiveInt = (name: keyof BrokerConfig, value: number) => {
    if (!Number.isInteger(value) || value <= 0)
      problems.push(`${name} must be a positive integer (got ${value})`);
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    problems.push(`port must be 0..65535 (got ${config.port})`);
  }
  positiveInt('defaultPartitions', config.defaultPartitions);
  positiveInt('maxFrameBytes', config.maxFrameBytes);
  positiveInt('segmentBytes', config.segmentBytes);
  positiveInt('transactionMaxTimeoutMs', config.transactionMaxTimeoutMs);
  positiveInt('transactionAbortCheckIntervalMs', config.transactionAbortCheckIntervalMs);
  if (config.retentionBytes !== null) positiveInt('retentionBytes', config.retentionBytes);
  if (config.retentionMs !== null) positiveInt('retentionMs', config.retentionMs);
  if (config.groupMinSessionTimeoutMs > config.groupMaxSessionTimeoutMs) {
    problems.push('groupMinSessionTimeoutMs must not exceed groupMaxSessionTimeoutMs');
  }
  if (problems.length > 0) throw new Error(`invalid broker configuration: ${problems.join('; ')}`);
}
