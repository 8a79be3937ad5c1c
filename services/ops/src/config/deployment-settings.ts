/**
 * The deployment module as a service command sees it: loaded from --config / TIDEMARK_CONFIG (else
 * ./tidemark.config.js), and the context and projection names of the settings checked against it. A name the
 * deployment does not host is a usage error naming the hosted ones.
 */
import { UsageError } from '../cli/usage-error';
import type { HostedDeployment } from '../deployment';
import { DeploymentError, loadDeployment } from '../deployment';

/** Loads the deployment module a command's settings name; a missing or wrong module is a UsageError. */
export async function deploymentOf(settings: { config?: string | undefined }): Promise<HostedDeployment> {
  try {
    return await loadDeployment(settings.config);
  } catch (error) {
    if (error instanceof DeploymentError) throw new UsageError(error.message);
    throw error;
  }
}

/** The contexts a command serves: those named (each hosted), or every hosted one. */
export function selectedContexts(
  deployment: HostedDeployment,
  named: readonly string[] | undefined,
): string[] {
  if (!named) return deployment.names();
  const unknown = deployment.unknownContexts(named);
  if (unknown.length > 0) {
    throw new UsageError(
      `TIDEMARK_CONTEXTS (--contexts) names context(s) ${unknown.join(', ')} that the deployment module does not host (it hosts: ${deployment.names().join(', ')})`,
    );
  }
  return [...named];
}

/** The one context a command serves: the one named, or the only hosted one. */
export function singleContext(deployment: HostedDeployment, named: string | undefined): string {
  if (named !== undefined) {
    if (!deployment.has(named)) {
      throw new UsageError(
        `TIDEMARK_CONTEXT (--context) names '${named}', which the deployment module does not host (it hosts: ${deployment.names().join(', ')})`,
      );
    }
    return named;
  }
  const [only, ...others] = deployment.names();
  if (only === undefined || others.length > 0) {
    throw new UsageError(
      `the deployment module hosts ${deployment.names().join(', ')}: say which with --context (or TIDEMARK_CONTEXT)`,
    );
  }
  return only;
}
