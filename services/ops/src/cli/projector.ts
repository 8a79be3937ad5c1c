import { serveMetrics } from '@tidemark/broker';
import { createLogger } from '@tidemark/observability';
import { ProjectionCatalog } from '../catalog';
import { deploymentOf, selectedContexts } from '../config/deployment-settings';
import { parseServiceArgs, renderOptions } from '../config/flags';
import type { StoreEndpoints } from '../read-path';
import { ProjectorSet } from '../read-path';
import { runUntilSignalled } from './args';
import { UsageError } from './usage-error';

const HELP = `tidemark projector: run the projectors of the deployment module's read views

Each projection version is its own consumer group (<context>.proj.<name>.v<N>) on <context>.events. A projector
resumes from the checkpoint kept in its view's store (not from Kafka's committed offsets), applies events in
batches (documents and checkpoint together), then announces the new watermark to query APIs (Postgres NOTIFY
on tidemark_watermarks). Several instances share the partitions of a projection.

It runs every live version of each projection of the contexts that the catalog defines (the deployment module's
versions plus those of --catalog), and follows the control table: a version that becomes live (after \`tidemark replay\`) is started, a
retired or failed one stopped, and a retired version's targets are dropped once its grace period has passed. On a
fresh deployment the lowest version of each projection is registered as the active one. Side effects of the
active versions (e.g. seller notifications) are recorded in the Postgres outbox tidemark_side_effects.

Usage: tidemark projector --brokers <host:port,...> --postgres <url> [options]
       TIDEMARK_BROKERS=<host:port,...> TIDEMARK_POSTGRES_URL=<url> tidemark projector

${renderOptions('projector')}
Prints "projector ready <names>" on stdout once every projector has joined its group; SIGINT or SIGTERM
finishes the batch in flight and stops cleanly. Lag per partition, apply rate and dead letters are metrics.
`;

export async function runProjectorCommand(argv: string[]): Promise<void> {
  const parsed = await parseServiceArgs('projector', argv, HELP);
  if (parsed === null) return;
  const s = parsed.settings;
  const logger = createLogger('tidemark.projector', { level: s['log-level'] });
  const deployment = await deploymentOf(s);
  const contexts = selectedContexts(deployment, s.contexts);
  const catalog = await ProjectionCatalog.load(deployment, s.catalog);
  const names = s.projections ?? contexts.flatMap((context) => catalog.names(context));
  const projections = names.map((name) => {
    const context = catalog.contextOf(name);
    if (context === undefined || !contexts.includes(context)) {
      throw new UsageError(
        `TIDEMARK_PROJECTIONS (--projections) names '${name}', which is not a projection of ${contexts.join(', ')} (known: ${contexts.flatMap((c) => catalog.names(c)).join(', ')})`,
      );
    }
    return { context, name };
  });
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
    deployment,
    catalog,
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
    `projector ready ${
      set
        .versions()
        .map((v) => `${v.name}.v${v.version}`)
        .join(',') || '-'
    }${metrics ? ` metrics ${metrics.url}` : ''}\n`,
  );
  await runUntilSignalled('projector', () => Promise.all([set.stop(), metrics?.close()]));
}
