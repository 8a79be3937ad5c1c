/** The repository's deployment module (tidemark.config.js: listings and tickets), as the suites load it. */
import { resolve } from 'node:path';
import type { HostedDeployment } from '@tidemark/ops';
import { loadDeployment } from '@tidemark/ops';

/** From test/dist/support/ to the repository root. */
export const REPO_ROOT = resolve(__dirname, '../../..');
export const REPO_DEPLOYMENT_FILE = resolve(REPO_ROOT, 'tidemark.config.js');
/** The CLI, for suites that run `tidemark ...` as a child process. */
export const CLI = resolve(REPO_ROOT, 'services/ops/bin/tidemark.js');

let loaded: Promise<HostedDeployment> | undefined;

/** The repository's deployment, loaded once per test process. */
export function repoDeployment(): Promise<HostedDeployment> {
  loaded ??= loadDeployment(REPO_DEPLOYMENT_FILE);
  return loaded;
}
