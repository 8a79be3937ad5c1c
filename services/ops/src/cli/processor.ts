import { serveMetrics } from '@tidemark/broker';
import { createLogger } from '@tidemark/observability';
import { CommandProcessor } from '@tidemark/processor';
import { deploymentOf, singleContext } from '../config/deployment-settings';
import { parseServiceArgs, renderOptions } from '../config/flags';
import { runUntilSignalled } from './args';

const HELP = `tidemark processor: run a command processor for one context of the deployment module

Joins consumer group <context>.processor on <context>.commands and owns the partitions it is assigned: for each,
it fences the previous owner (transactional id <context>.processor.p<N>), rebuilds the partition's state from
the latest snapshot and the log, then decides commands in batches, one Kafka transaction per batch.
Creates the context's topics on first start (replication: the cluster's default.replication.factor) and refuses
to run when they exist with another partition count. Run several instances to share the partitions.

Usage: tidemark processor --brokers <host:port,...> [options]
       TIDEMARK_BROKERS=<host:port,...> tidemark processor

${renderOptions('processor')}
Prints "processor ready <context>" on stdout once it has joined the group; SIGINT or SIGTERM stops it cleanly.
`;

export async function runProcessorCommand(argv: string[]): Promise<void> {
  const parsed = await parseServiceArgs('processor', argv, HELP);
  if (parsed === null) return;
  const s = parsed.settings;
  const deployment = await deploymentOf(s);
  const contextName = singleContext(deployment, s.context);
  const logger = createLogger('tidemark.processor', { level: s['log-level'] });
  const processor = await CommandProcessor.start({
    brokers: s.brokers,
    context: deployment.context(contextName),
    partitions: s.partitions,
    logger,
    instanceId: s['instance-id'],
    sessionTimeoutMs: s['session-timeout-ms'],
    heartbeatIntervalMs: s['heartbeat-interval-ms'],
    snapshotEveryEvents: s['snapshot-every'],
    dedupeWindow: s['dedupe-window'],
    maxBatch: s['max-batch'],
    offsetCommitIntervalMs: s['offset-commit-interval-ms'],
  });
  const metrics =
    s['metrics-port'] === -1
      ? null
      : await serveMetrics(processor.registry, s['metrics-host'], s['metrics-port'], () => true);
  process.stdout.write(`processor ready ${contextName}${metrics ? ` metrics ${metrics.url}` : ''}\n`);
  await runUntilSignalled('processor', () => Promise.all([processor.stop(), metrics?.close()]));
}
