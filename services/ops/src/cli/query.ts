import { createLogger } from '@tidemark/observability';
import { deploymentOf, selectedContexts } from '../config/deployment-settings';
import { parseServiceArgs, renderOptions } from '../config/flags';
import type { StoreEndpoints } from '../read-path';
import { startQueryService } from '../read-path';
import { runUntilSignalled } from './args';

const HELP = `tidemark query: run the query API (HTTP) over the read views of the deployment module's contexts

Serves the queries each context defines (defineQueries) over the views the projectors build (Postgres, Redis, memcached, Elasticsearch), always from the version the
projection control table marks active. A read that carries a Consistency-Token waits, bounded, until the view
covers it (woken by the projectors' Postgres NOTIFY), then answers with the view's token; past the bound it
answers 503 with Retry-After. It holds no state: run as many instances as needed. GET /healthz, GET /metrics
(Prometheus) and GET /openapi.json are served on the same port.

Usage: tidemark query --brokers <host:port,...> --postgres <url> --api-keys-file <path> [options]
       TIDEMARK_BROKERS=... TIDEMARK_POSTGRES_URL=... TIDEMARK_API_KEYS_FILE=... tidemark query

${renderOptions('query')}
API key scopes: queries:read:<context>, queries:read:*, or * for everything.

Prints "query ready <url>" on stdout once it listens; SIGINT or SIGTERM stops it cleanly.
`;

export async function runQueryCommand(argv: string[]): Promise<void> {
  const parsed = await parseServiceArgs('query', argv, HELP);
  if (parsed === null) return;
  const s = parsed.settings;
  const logger = createLogger('tidemark.query', { level: s['log-level'] });
  const stores: StoreEndpoints = {
    postgres: s.postgres,
    redis: s.redis,
    memcached: s.memcached?.join(','),
    elasticsearch: s.elasticsearch,
  };
  const deployment = await deploymentOf(s);
  const contexts = selectedContexts(deployment, s.contexts);
  const query = await startQueryService({
    brokers: s.brokers,
    stores,
    partitions: s.partitions,
    deployment,
    contexts,
    // One of the two is set (the settings table checks it).
    apiKeys: s['api-keys'] ?? s['api-keys-file'] ?? [],
    host: s.host,
    port: s.port,
    waitTimeoutMs: s['wait-timeout-ms'],
    logger,
  });
  process.stdout.write(`query ready ${query.url} contexts ${contexts.join(',')}\n`);
  await runUntilSignalled('query', () => query.close());
}
