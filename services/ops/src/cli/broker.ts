import { parseArgs } from 'node:util';
import { startBroker } from '@tidemark/broker';
import { intOption, parseOrHelp, runUntilSignalled } from './args';

const HELP = `tidemark broker: run the embedded single-node Kafka-protocol broker

Speaks the Kafka wire protocol (kafkajs, librdkafka/kcat); acknowledged writes are fsynced before the reply.

Usage: tidemark broker [options]

Options:
  --port <n>               Kafka listener port (default 9092; 0 picks a free port)
  --host <addr>            Listen and advertise address (default 127.0.0.1)
  --data-dir <dir>         Where logs, offsets and transaction state live (default .tidemark/broker)
  --metrics-port <n>       Prometheus /metrics and /healthz HTTP port (default 9308; 0 picks one; -1 disables)
  --partitions <n>         Partitions of auto-created topics and CreateTopics with -1 (default 1)
  --no-auto-create         Refuse to auto-create topics on Metadata requests
  --max-frame-bytes <n>    Largest request accepted; larger frames close the connection (default 104857600)
  --segment-bytes <n>      Roll log segments at this size (default 134217728)
  --retention-bytes <n>    Delete oldest segments while a partition is larger than this (default: keep all)
  --retention-ms <n>       Delete segments whose newest record is older than this (default: keep all)
  --initial-rebalance-delay-ms <n>
                           Wait this long for more members before a new group's first rebalance (default 0)
  --node-id <n>            Broker id reported in Metadata (default 1)
  --log-level <level>      debug, info, warn or error (default info, or TIDEMARK_LOG_LEVEL)
  -h, --help               Show this text

Prints one line "broker ready <host:port>" on stdout when it accepts connections; SIGINT or SIGTERM stops it cleanly.
`;

export async function runBrokerCommand(argv: string[]): Promise<void> {
  const values = parseOrHelp(() => parse(argv), HELP);
  if (values === null) return;
  const metricsPort = intOption('metrics-port', values['metrics-port'], -1) ?? 9308;
  const broker = await startBroker({
    dataDir: values['data-dir'] ?? '.tidemark/broker',
    host: values.host ?? '127.0.0.1',
    port: intOption('port', values.port) ?? 9092,
    metricsPort: metricsPort === -1 ? null : metricsPort,
    defaultPartitions: intOption('partitions', values.partitions, 1),
    autoCreateTopics: !values['no-auto-create'],
    maxFrameBytes: intOption('max-frame-bytes', values['max-frame-bytes'], 1024),
    segmentBytes: intOption('segment-bytes', values['segment-bytes'], 1024),
    retentionBytes: intOption('retention-bytes', values['retention-bytes'], 1) ?? null,
    retentionMs: intOption('retention-ms', values['retention-ms'], 1) ?? null,
    groupInitialRebalanceDelayMs: intOption(
      'initial-rebalance-delay-ms',
      values['initial-rebalance-delay-ms'],
    ),
    nodeId: intOption('node-id', values['node-id']),
    logLevel: values['log-level'],
  });
  process.stdout.write(
    `broker ready ${broker.bootstrap}${broker.metricsUrl ? ` metrics ${broker.metricsUrl}` : ''}\n`,
  );
  await runUntilSignalled('broker', () => broker.stop());
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'metrics-port': { type: 'string' },
      partitions: { type: 'string' },
      'no-auto-create': { type: 'boolean' },
      'max-frame-bytes': { type: 'string' },
      'segment-bytes': { type: 'string' },
      'retention-bytes': { type: 'string' },
      'retention-ms': { type: 'string' },
      'initial-rebalance-delay-ms': { type: 'string' },
      'node-id': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
