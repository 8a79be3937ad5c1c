/**
 * The projection catalog: every projection version this deployment's code can run: the contexts' projections and
 * the deployment module's own `catalog`, then those of a catalog module (`--catalog <file>` or TIDEMARK_CATALOG),
 * each replacing one with the same (context, name, version). That is how a fixed projection ships as version N+1
 * next to the running N (`tidemark replay <projection> --version <N+1>`), and how tests bring a deliberately
 * buggy v1.
 *
 * A catalog module is a CommonJS or ES module exporting `projections: ProjectionDefinition[]` (or a default
 * export of that array).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProjectionDefinition } from '@tidemark/sdk';
import type { HostedDeployment } from './deployment';

export class ProjectionCatalog {
  private constructor(private readonly definitions: readonly ProjectionDefinition[]) {}

  /** The deployment's versions, plus (and overridden by) those of `extra`. */
  static of(deployment: HostedDeployment, extra: readonly ProjectionDefinition[] = []): ProjectionCatalog {
    const byId = new Map<string, ProjectionDefinition>();
    for (const definition of [...deployment.projections(), ...deployment.deployment.catalog, ...extra]) {
      if (!deployment.has(definition.context)) {
        throw new Error(
          `projection ${definition.name} belongs to context ${definition.context}, which is not hosted`,
        );
      }
      byId.set(`${definition.context}/${definition.name}/${definition.version}`, definition);
    }
    const sorted = [...byId.values()].sort(
      (a, b) => a.context.localeCompare(b.context) || a.name.localeCompare(b.name) || a.version - b.version,
    );
    return new ProjectionCatalog(sorted);
  }

  /** The deployment's catalog with a catalog module's versions (see the file comment), if one is given. */
  static async load(deployment: HostedDeployment, modulePath?: string): Promise<ProjectionCatalog> {
    if (!modulePath) return ProjectionCatalog.of(deployment);
    const url = pathToFileURL(path.resolve(modulePath)).href;
    const loaded = (await import(url)) as { projections?: unknown; default?: unknown };
    const exported =
      loaded.projections ??
      (Array.isArray(loaded.default)
        ? loaded.default
        : (loaded.default as { projections?: unknown } | undefined)?.projections);
    if (!Array.isArray(exported)) {
      throw new Error(`catalog module ${modulePath} exports no 'projections' array`);
    }
    for (const entry of exported as Partial<ProjectionDefinition>[]) {
      if (
        typeof entry?.context !== 'string' ||
        typeof entry.name !== 'string' ||
        !Number.isInteger(entry.version) ||
        typeof entry.apply !== 'function'
      ) {
        throw new Error(`catalog module ${modulePath} exports something that is not a projection definition`);
      }
    }
    return ProjectionCatalog.of(deployment, exported as ProjectionDefinition[]);
  }

  /** Every version of every projection, ordered by context, name, version. */
  all(): readonly ProjectionDefinition[] {
    return this.definitions;
  }

  /** Every version of one projection, ascending. */
  versions(context: string, name: string): ProjectionDefinition[] {
    return this.definitions.filter((d) => d.context === context && d.name === name);
  }

  find(context: string, name: string, version: number): ProjectionDefinition | undefined {
    return this.definitions.find((d) => d.context === context && d.name === name && d.version === version);
  }

  /** The lowest version of each projection of a context: what a fresh deployment starts with. */
  firstVersions(context: string): ProjectionDefinition[] {
    const first = new Map<string, ProjectionDefinition>();
    for (const d of this.definitions) {
      if (d.context === context && !first.has(d.name)) first.set(d.name, d);
    }
    return [...first.values()];
  }

  /** Projection names of a context (of every context when none is named). */
  names(context?: string): string[] {
    return [
      ...new Set(
        this.definitions.filter((d) => context === undefined || d.context === context).map((d) => d.name),
      ),
    ];
  }

  /** The context of a projection name (names are unique in a deployment), or undefined. */
  contextOf(name: string): string | undefined {
    return this.definitions.find((d) => d.name === name)?.context;
  }

  /** The definition of a version, or an error naming the versions that exist. */
  require(context: string, name: string, version: number): ProjectionDefinition {
    const found = this.find(context, name, version);
    if (found) return found;
    const versions = this.versions(context, name).map((d) => d.version);
    if (versions.length === 0) {
      throw new Error(
        `unknown projection '${name}' in context '${context}' (known: ${this.names(context).join(', ')})`,
      );
    }
    throw new Error(
      `projection '${name}' has no version ${version} in this deployment's catalog (versions: ${versions.join(', ')}); ship it in a catalog module (--catalog)`,
    );
  }
}
