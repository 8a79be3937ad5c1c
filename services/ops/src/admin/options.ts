import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import type { ApiKey } from '@tidemark/http';
import type { Logger } from 'pino';
import type { DeploymentOps } from '../projection-ops';

/** An API key (@tidemark/http); its scopes: `admin` (every operator action) or `*` (everything). */
export type AdminApiKey = ApiKey;

export interface AdminOptions {
  /** The operator actions (every context of the deployment). The caller's: not closed with the app. */
  ops: DeploymentOps;
  apiKeys: AdminApiKey[];
  logger?: Logger;
}

/** nestjs-style async configuration: the options are injected, never reached for. */
export interface AdminModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: FactoryProvider<AdminOptions>['inject'];
  useFactory: FactoryProvider<AdminOptions>['useFactory'];
}

/** The scope every admin route needs (or `*`). */
export const ADMIN_SCOPE = 'admin';

export interface ResolvedAdminOptions {
  ops: DeploymentOps;
  apiKeys: readonly AdminApiKey[];
}

export function resolveAdminOptions(options: AdminOptions): ResolvedAdminOptions {
  const ids = new Set<string>();
  for (const key of options.apiKeys) {
    if (!key.id || !key.secret) throw new Error('an API key needs an id and a secret');
    if (ids.has(key.id)) throw new Error(`API key id '${key.id}' is defined twice`);
    ids.add(key.id);
  }
  return { ops: options.ops, apiKeys: options.apiKeys };
}
