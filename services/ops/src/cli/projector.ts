import { parseArgs } from 'node:util';
import { serveMetrics } from '@tidemark/broker';
import pino from 'pino';
import { ProjectorSet, selectProjections } from '../read-path';
import { intOption, parseOrHelp, runUntilSignalled } from './args';
import { UsageError } from './usage-error';

const HELP = `tidemark projector: run the projectors of a context's read views

Each projection version is its own consumer group (<context>.proj.<name>.v<N>) on <context>.events. A projector
resumes from the checkpoint kept in its view's store (not from Kafka's committed offsets), applies events in
batches (documents and checkpoint together), then announces the new watermark to query APIs (Postgres NOTIFY
on tidemark_watermarks). Several instances share the partitions of a projection.

Usage: tidemark projector --brokers <host:port,...> --postgres <url> [options]

Options:
  --brokers <list>              Kafka bootstrap servers, comma-separated (required)
  --postgres <url>              PostgreSQL URL: detail views, control table, watermark bus (required)
  --redis <url>                 Redis URL (redis://host:port), for Redis views
  --memcached <host:port>       memcached server, for memcached views
  --context <name>              The context whose projections run (default listings)
  --projections <list>          Only these projections, comma-separated (default all of the context)
  --partitions <n>              Partitions of the context's topics (default 8)
  --metrics-port <n>            Prometheus /metrics port (default 9320; 0 picks one; -1 disables)
  --session-timeout-ms <n>      Consumer group session timeout (default 10000)
  --heartbeat-interval-ms <n>   Heartbeat interval (default 1000)
  --log-level <level>           debug, info, warn or error (default info, or TIDEMARK_LOG_LEVEL)
  -h, --help                    Show this text

Prints "projector ready <names>" on stdout once every projector has joined its group; SIGINT or SIGTERM
finishes the batch in flight and stops cleanly. Lag per partition, apply rate and dead letters are metrics.
`;

export async function runProjectorCommand(argv: string[]): Promise<void> {
  const values = parseOrHelp(() => parse(argv), HELP);
  if (values === null) return;
  if (!values.brokers) throw new UsageError(`--brokers is required\n\n${HELP}`);
  if (!values.postgres) throw new UsageError(`--postgres is required\n\n${HELP}`);
  const logger = pino(
    { name: 'tidemark.projector', level: values['log-level'] ?? process.env.TIDEMARK_LOG_LEVEL ?? 'info' },
    pino.destination(2),
  );
  const context = values.context ?? 'listings';
  let projections: ReturnType<typeof selectProjections>;
  try {
    projections = selectProjections(
      [context],
      values.projections
        ?.split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    );
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const metricsPort = intOption('metrics-port', values['metrics-port'], -1) ?? 9320;
  const set = await ProjectorSet.start({
    brokers: values.brokers.split(',').map((b) => b.trim()),
    stores: { postgres: values.postgres, redis: values.redis, memcached: values.memcached },
    partitions: intOption('partitions', values.partitions, 1) ?? 8,
    projections,
    logger,
    sessionTimeoutMs: intOption('session-timeout-ms', values['session-timeout-ms'], 100),
    heartbeatIntervalMs: intOption('heartbeat-interval-ms', values['heartbeat-interval-ms'], 10),
  });
  const metrics =
    metricsPort === -1 ? null : await serveMetrics(set.registry, '127.0.0.1', metricsPort, () => true);
  process.stdout.write(
    `projector ready ${projections.map((p) => `${p.name}.v${p.version}`).join(',')}${metrics ? ` metrics ${metrics.url}` : ''}\n`,
  );
  await runUntilSignalled('projector', () => Promise.all([set.stop(), metrics?.close()]));
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      brokers: { type: 'string' },
      postgres: { type: 'string' },
      redis: { type: 'string' },
      memcached: { type: 'string' },
      context: { type: 'string' },
      projections: { type: 'string' },
      partitions: { type: 'string' },
      'metrics-port': { type: 'string' },
      'session-timeout-ms': { type: 'string' },
      'heartbeat-interval-ms': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
