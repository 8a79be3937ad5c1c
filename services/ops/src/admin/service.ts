/**
 * The admin API with what it needs: the control table, the catalog and a ProjectionOps over the stores. Used by
 * `tidemark admin` and `tidemark up`.
 */
import { createPostgresProjectionControl } from '@tidemark/projection-runtime';
import type { Logger } from 'pino';
import type { ProjectionCatalog } from '../catalog';
import type { HostedDeployment } from '../deployment';
import { DeploymentOps } from '../projection-ops';
import type { StoreEndpoints } from '../sinks';
import { startAdminApi } from './app';
import type { AdminApiKey } from './options';

export interface AdminServiceOptions {
  brokers: string[];
  stores: StoreEndpoints;
  /** P of every context (default: read from each events topic). */
  partitions?: number;
  deployment: HostedDeployment;
  catalog: ProjectionCatalog;
  apiKeys: AdminApiKey[];
  host: string;
  port: number;
  logger: Logger;
}

export interface AdminService {
  url: string;
  ops: DeploymentOps;
  close(): Promise<void>;
}

export async function startAdminService(options: AdminServiceOptions): Promise<AdminService> {
  const control = createPostgresProjectionControl({
    connectionString: options.stores.postgres,
    logger: options.logger,
  });
  const ops = new DeploymentOps({
    brokers: options.brokers,
    stores: options.stores,
    partitions: options.partitions,
    catalog: options.catalog,
    control,
    logger: options.logger,
    deployment: options.deployment,
  });
  try {
    const api = await startAdminApi({
      ops,
      apiKeys: options.apiKeys,
      logger: options.logger,
      host: options.host,
      port: options.port,
    });
    return {
      url: api.url,
      ops,
      async close() {
        await api.close();
        await ops.close();
        await control.close().catch(() => undefined);
      },
    };
  } catch (error) {
    await ops.close();
    await control.close().catch(() => undefined);
    throw error;
  }
}
