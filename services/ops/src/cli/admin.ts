import { createLogger } from '@tidemark/observability';
import { startAdminService } from '../admin/service';
import { ProjectionCatalog } from '../catalog';
import { deploymentOf } from '../config/deployment-settings';
import { parseServiceArgs, renderOptions } from '../config/flags';
import type { StoreEndpoints } from '../read-path';
import { runUntilSignalled } from './args';

const HELP = `tidemark admin: run the admin API (HTTP): the operator commands over HTTP

The same actions as the CLI commands projections, replay, diff, cutover, rollback, retire and audit, for every
context of the deployment module (projection names are unique in a deployment), behind API keys with the 'admin' scope (or '*'); each action is recorded in the audit log with the key
id as its actor. Replays run in this process, in the background (GET /v1/admin/replays/{job} shows progress);
stopping the process leaves them 'building', and requesting them again resumes them.

  GET  /v1/admin/projections                    versions, states, watermarks and lag
  POST /v1/admin/projections/{name}/replays     {version, reason?}                        -> 202 {job}
  GET  /v1/admin/replays/{job}                  progress and state of a replay
  GET  /v1/admin/projections/{name}/diff?a=&b=&sample=
  POST /v1/admin/projections/{name}/cutover     {to, force?, mode?: full|shadow|split, percent?, abort?, reason?}
  POST /v1/admin/projections/{name}/rollback    {force?, reason?}
  POST /v1/admin/projections/{name}/retire      {version, graceSeconds?, reason?}
  GET  /v1/admin/audit?limit=&projection=

Errors are {"error": {code, message, retryable, details?}}: 400 INVALID_REQUEST, 401/403, 404 UNKNOWN_PROJECTION
or UNKNOWN_VERSION, 409 CUTOVER_LAGGING, VERSION_NOT_LIVE, VERSION_ACTIVE, ROUTE_CHANGED, ... GET /healthz,
GET /metrics (Prometheus) and GET /openapi.json are served on the same port.

Usage: tidemark admin --brokers <host:port,...> --postgres <url> --api-keys-file <path> [options]
       TIDEMARK_BROKERS=... TIDEMARK_POSTGRES_URL=... TIDEMARK_API_KEYS_FILE=... tidemark admin

${renderOptions('admin')}
API key scopes: admin, or * for everything.

Prints "admin ready <url>" on stdout once it listens; SIGINT or SIGTERM stops it cleanly.
`;

export async function runAdminCommand(argv: string[]): Promise<void> {
  const parsed = await parseServiceArgs('admin', argv, HELP);
  if (parsed === null) return;
  const s = parsed.settings;
  const logger = createLogger('tidemark.admin', { level: s['log-level'] });
  const stores: StoreEndpoints = {
    postgres: s.postgres,
    redis: s.redis,
    memcached: s.memcached?.join(','),
    elasticsearch: s.elasticsearch,
  };
  const deployment = await deploymentOf(s);
  const admin = await startAdminService({
    brokers: s.brokers,
    stores,
    partitions: s.partitions,
    deployment,
    catalog: await ProjectionCatalog.load(deployment, s.catalog),
    // One of the two is set (the settings table checks it).
    apiKeys: s['api-keys'] ?? s['api-keys-file'] ?? [],
    host: s.host,
    port: s.port,
    logger,
  });
  process.stdout.write(`admin ready ${admin.url} contexts ${deployment.names().join(',')}\n`);
  await runUntilSignalled('admin', () => admin.close());
}
