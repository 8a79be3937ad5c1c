import { serveMetrics } from '@tidemark/broker';
import pino from 'pino';
import { parseServiceArgs, renderOptions } from '../config/flags';
import type { StoreEndpoints } from '../read-path';
import { ProjectorSet, selectProjections } from '../read-path';
import { runUntilSignalled } from './args';

const HELP = `tidemark projector: run the projectors of a context's read views

Each projection version is its own consumer group (<context>.proj.<name>.v<N>) on <context>.events. A projector
resumes from the checkpoint kept in its view's store (not from Kafka's committed offsets), applies events in
batches (documents and checkpoint together), then announces the new watermark to query APIs (Postgres NOTIFY
on tidemark_watermarks). Several instances share the partitions of a projection.

Usage: tidemark projector --brokers <host:port,...> --postgres <url> [options]
       TIDEMARK_BROKERS=<host:port,...> TIDEMARK_POSTGRES_URL=<url> tidemark projector

${renderOptions('projector')}
Prints "projector ready <names>" on stdout once every projector has joined its group; SIGINT or SIGTERM
finishes the batch in flight and stops cleanly. Lag per partition, apply rate and dead letters are metrics.
`;

export async function runProjectorCommand(argv: string[]): Promise<void> {
  const parsed = parseServiceArgs('projector', argv, HELP);
  if (parsed === null) return;
  const s = parsed.settings;
  const logger = pino({ name: 'tidemark.projector', level: s['log-level'] }, pino.destination(2));
  const projections = selectProjections([s.context], s.projections);
  const stores: StoreEndpoints = {
    postgres: s.postgres,
    redis: s.redis,
    memcached: s.memcached?.join(','),
    elasticsearch: s.elasticsearch,
  };
  const set = await ProjectorSet.start({
    brokers: s.brokers,
    stores,
    partitions: s.partitions,
    projections,
    logger,
    sessionTimeoutMs: s['session-timeout-ms'],
    heartbeatIntervalMs: s['heartbeat-interval-ms'],
  });
  const metrics =
    s['metrics-port'] === -1
      ? null
      : await serveMetrics(set.registry, s['metrics-host'], s['metrics-port'], () => true);
  process.stdout.write(
    `projector ready ${projections.map((p) => `${p.name}.v${p.version}`).join(',')}${metrics ? ` metrics ${metrics.url}` : ''}\n`,
  );
  await runUntilSignalled('projector', () => Promise.all([set.stop(), metrics?.close()]));
}
