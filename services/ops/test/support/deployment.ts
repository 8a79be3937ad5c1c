/** The repository's deployment module, as the ops suites load it. */
import { resolve } from 'node:path';
import type { HostedDeployment } from '../../src/deployment';
import { loadDeployment } from '../../src/deployment';

/** From services/ops/dist/test/support/ to the repository root. */
export const REPO_DEPLOYMENT_FILE = resolve(__dirname, '../../../../../tidemark.config.js');

export function repoDeployment(): Promise<HostedDeployment> {
  return loadDeployment(REPO_DEPLOYMENT_FILE);
}
