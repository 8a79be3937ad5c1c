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

/**
 * What --check-config adds to the settings: the deployment module loads, and the contexts and projections the
 * settings name are hosted by it. Every problem is listed in one UsageError.
 */
export async function checkDeploymentSettings(settings: {
  config?: string | undefined;
  context?: string | undefined;
  contexts?: readonly string[] | undefined;
  projections?: readonly string[] | undefined;
}): Promise<{ module: string; contexts: string[] }> {
  const deployment = await deploymentOf(settings);
  const problems: string[] = [];
  const attempt = (check: () => unknown) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push(error.message);
    }
  };
  if ('context' in settings) attempt(() => singleContext(deployment, settings.context));
  if (settings.contexts) attempt(() => selectedContexts(deployment, settings.contexts));
  const known = new Set([
    ...deployment.projections().map((p) => p.name),
    ...deployment.deployment.catalog.map((p) => p.name),
  ]);
  const unknown = (settings.projections ?? []).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    problems.push(
      `TIDEMARK_PROJECTIONS (--projections) names ${unknown.join(', ')}, which the deployment module does not define (it defines: ${[...known].join(', ')})`,
    );
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { module: deployment.file ?? '', contexts: deployment.names() };
}
