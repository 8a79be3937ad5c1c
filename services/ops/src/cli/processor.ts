import { parseArgs } from 'node:util';
import { serveMetrics } from '@tidemark/broker';
import { CommandProcessor } from '@tidemark/processor';
import pino from 'pino';
import { contextByName } from '../contexts';
import { intOption, parseOrHelp, runUntilSignalled } from './args';
import { UsageError } from './usage-error';

const HELP = `tidemark processor: run a command processor for one context

Joins consumer group <context>.processor on <context>.commands and owns the partitions it is assigned: for each,
it fences the previous owner (transactional id <context>.processor.p<N>), rebuilds the partition's state from
the latest snapshot and the log, then decides commands in batches, one Kafka transaction per batch.
Creates the context's topics on first start and refuses to run when they exist with another partition count.

Usage: tidemark processor --brokers <host:port,...> [options]

Options:
  --brokers <list>              Kafka bootstrap servers, comma-separated (required)
  --context <name>              The context to process (default listings)
  --partitions <n>              Partitions of the context's topics (default 8; fixed once created)
  --metrics-port <n>            Prometheus /metrics port (default 9310; 0 picks one; -1 disables)
  --session-timeout-ms <n>      Consumer group session timeout (default 10000)
  --heartbeat-interval-ms <n>   Heartbeat interval (default 1000)
  --snapshot-every <n>          Events between state snapshots per partition (default 5000)
  --dedupe-window <n>           Command outcomes remembered per partition for retries (default 10000)
  --max-batch <n>               Commands per transaction at most (default 500)
  --instance-id <id>            Name of this instance in logs and event headers (default random)
  --log-level <level>           debug, info, warn or error (default info, or TIDEMARK_LOG_LEVEL)
  -h, --help                    Show this text

Prints "processor ready <context>" on stdout once it has joined the group; SIGINT or SIGTERM stops it cleanly.
`;

export async function runProcessorCommand(argv: string[]): Promise<void> {
  const values = parseOrHelp(() => parse(argv), HELP);
  if (values === null) return;
  if (!values.brokers) throw new UsageError(`--brokers is required\n\n${HELP}`);
  const logger = pino(
    { name: 'tidemark.processor', level: values['log-level'] ?? process.env.TIDEMARK_LOG_LEVEL ?? 'info' },
    pino.destination(2),
  );
  const metricsPort = intOption('metrics-port', values['metrics-port'], -1) ?? 9310;
  const processor = await CommandProcessor.start({
    brokers: values.brokers.split(',').map((b) => b.trim()),
    context: contextByName(values.context ?? 'listings'),
    partitions: intOption('partitions', values.partitions, 1) ?? 8,
    logger,
    instanceId: values['instance-id'],
    sessionTimeoutMs: intOption('session-timeout-ms', values['session-timeout-ms'], 100),
    heartbeatIntervalMs: intOption('heartbeat-interval-ms', values['heartbeat-interval-ms'], 10),
    snapshotEveryEvents: intOption('snapshot-every', values['snapshot-every'], 1),
    dedupeWindow: intOption('dedupe-window', values['dedupe-window'], 1),
    maxBatch: intOption('max-batch', values['max-batch'], 1),
  });
  const metrics =
    metricsPort === -1 ? null : await serveMetrics(processor.registry, '127.0.0.1', metricsPort, () => true);
  process.stdout.write(
    `processor ready ${values.context ?? 'listings'}${metrics ? ` metrics ${metrics.url}` : ''}\n`,
  );
  await runUntilSignalled('processor', () => Promise.all([processor.stop(), metrics?.close()]));
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      brokers: { type: 'string' },
      context: { type: 'string' },
      partitions: { type: 'string' },
      'metrics-port': { type: 'string' },
      'session-timeout-ms': { type: 'string' },
      'heartbeat-interval-ms': { type: 'string' },
      'snapshot-every': { type: 'string' },
      'dedupe-window': { type: 'string' },
      'max-batch': { type: 'string' },
      'instance-id': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
