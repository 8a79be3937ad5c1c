/**
 * The deployment module (docs/design.md, Deployment): the one place that names the contexts a Tidemark
 * installation hosts. Every service command loads it (`--config` / TIDEMARK_CONFIG, else ./tidemark.config.js
 * in the current directory) and finds contexts, projections and queries only through it.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ContextDefinition, Deployment, NamedQuery, ProjectionDefinition } from '@tidemark/sdk';
import { isDeployment } from '@tidemark/sdk';

/** Looked for in the current directory when no module is named. */
export const DEFAULT_CONFIG_FILE = 'tidemark.config.js';

/** A deployment as the platform uses it: lookups by name, and the module it came from. */
export class HostedDeployment {
  private readonly byName: ReadonlyMap<string, ContextDefinition>;

  constructor(
    readonly deployment: Deployment,
    /** The module's absolute path (child processes load it again); undefined for a deployment built in code. */
    readonly file?: string,
  ) {
    this.byName = new Map(deployment.contexts.map((hosted) => [hosted.context.name, hosted.context]));
  }

  /** Every hosted context, in the module's order. */
  contexts(): ContextDefinition[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** A hosted context, or an error naming the hosted ones. */
  context(name: string): ContextDefinition {
    const context = this.byName.get(name);
    if (!context)
      throw new Error(`unknown context '${name}' (this deployment hosts: ${this.names().join(', ')})`);
    return context;
  }

  /** The projections of the contexts (all when none are named) at the versions a fresh deployment starts with. */
  projections(contexts?: readonly string[]): ProjectionDefinition[] {
    return this.deployment.contexts
      .filter((hosted) => !contexts || contexts.includes(hosted.context.name))
      .flatMap((hosted) => hosted.projections);
  }

  /** The context a projection name belongs to (names are unique in a deployment), or undefined. */
  contextOfProjection(name: string): string | undefined {
    return [...this.projections(), ...this.deployment.catalog].find((p) => p.name === name)?.context;
  }

  /** The read routes of the contexts (all when none are named). */
  queries(contexts?: readonly string[]): NamedQuery[] {
    return this.deployment.contexts
      .filter((hosted) => !contexts || contexts.includes(hosted.context.name))
      .flatMap((hosted) => hosted.queries?.list ?? []);
  }

  /** Checks names given on a command line against the deployment; returns the problems. */
  unknownContexts(names: readonly string[]): string[] {
    return names.filter((name) => !this.byName.has(name));
  }
}

/**
 * Loads a deployment module: `file` when given, else ./tidemark.config.js under `cwd`. A module exports the
 * result of defineDeployment (module.exports, `export default`, or `export const deployment`).
 */
export async function loadDeployment(file?: string, cwd = process.cwd()): Promise<HostedDeployment> {
  const resolved = path.resolve(cwd, file ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(resolved) || !statSync(resolved).isFile()) {
    throw new DeploymentError(
      file
        ? `the deployment module ${resolved} does not exist`
        : `no deployment module: give --config <file> (or TIDEMARK_CONFIG), or run where ${DEFAULT_CONFIG_FILE} is`,
    );
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch (error) {
    throw new DeploymentError(`the deployment module ${resolved} did not load: ${(error as Error).message}`);
  }
  const candidates = [
    loaded.default,
    (loaded.default as Record<string, unknown> | undefined)?.default,
    loaded.deployment,
    (loaded.default as Record<string, unknown> | undefined)?.deployment,
  ];
  const deployment = candidates.find(isDeployment);
  if (!deployment) {
    throw new DeploymentError(
      `the deployment module ${resolved} exports no deployment: export the result of defineDeployment({ contexts: [...] })`,
    );
  }
  return new HostedDeployment(deployment, resolved);
}

/** A deployment module that is missing or wrong: a usage error of whatever command loads it. */
export class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
}
