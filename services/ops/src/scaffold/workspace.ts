/**
 * The npm workspace `tidemark new` writes into: its root package.json and workspace folders, the versions of
 * the SDK packages generated packages depend on, and the workspace's Biome, which formats what was written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../cli/usage-error';

/** Where a context's packages go: all of them in one folder, services/contexts/<name>. */
export const CONTEXTS_DIR = 'services/contexts';
/** The workspace glob that covers them. */
export const CONTEXTS_GLOB = `${CONTEXTS_DIR}/*/*`;
/** A context's domain package (commands, events, decider). */
export const domainDir = (context: string) => `${CONTEXTS_DIR}/${context}/domain`;
/** A context's read package (projections and queries). */
export const projectionsDir = (context: string) => `${CONTEXTS_DIR}/${context}/projections`;

interface Manifest {
  name?: string;
  version?: string;
  workspaces?: string[] | { packages?: string[] };
  dependencies?: Record<string, string>;
}

function readManifest(file: string): Manifest {
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/** The workspace globs of `root`'s package.json; a UsageError when it is not a workspace root for contexts. */
export function workspaceGlobs(root: string): string[] {
  const file = path.join(root, 'package.json');
  if (!existsSync(file)) {
    throw new UsageError(
      `${root} has no package.json: run this at the root of your repository (or give --dir <root>)`,
    );
  }
  const { workspaces } = readManifest(file);
  const globs = Array.isArray(workspaces) ? workspaces : (workspaces?.packages ?? []);
  if (!globs.includes(CONTEXTS_GLOB)) {
    throw new UsageError(
      `the workspaces of ${file} do not include ${CONTEXTS_GLOB}: run this at the root of a Tidemark repository (or give --dir <root>)`,
    );
  }
  return globs;
}

/** The names of the packages in the workspace's folders (globs `dir/*` and plain folders). */
export function workspacePackageNames(root: string, globs: readonly string[]): Set<string> {
  const dirs = globs.flatMap((glob) => {
    if (!glob.endsWith('/*')) return [path.join(root, glob)];
    const parent = path.join(root, glob.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(parent, entry.name));
  });
  const names = new Set<string>();
  for (const dir of dirs) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const { name } = readManifest(file);
    if (name) names.add(name);
  }
  return names;
}

/** The package.json of a package this module resolves (from its main file up). */
function installedManifest(name: string): Manifest {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = readManifest(file);
      if (manifest.name === name) return manifest;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = parent;
  }
}

/** The versions generated packages depend on: the SDK and core schemas this CLI runs with, and their zod. */
export interface SdkVersions {
  sdk: string;
  schemas: string;
  zod: string;
}

export function sdkVersions(): SdkVersions {
  const sdk = installedManifest('@tidemark/sdk');
  const schemas = installedManifest('@tidemark/schemas');
  return {
    sdk: sdk.version ?? '*',
    schemas: schemas.version ?? '*',
    zod: sdk.dependencies?.zod ?? '*',
  };
}

/** A path as a command run from `cwd` would name it. */
export function shown(file: string, cwd = process.cwd()): string {
  const relative = path.relative(cwd, file);
  return relative === '' ? '.' : relative.startsWith('..') ? file : relative;
}

/** What formatting with the workspace's Biome did. */
export interface FormatResult {
  /** false: the workspace has no Biome (node_modules/@biomejs/biome). */
  ran: boolean;
  ok: boolean;
  output: string;
}

/**
 * Formats and organises the imports of `paths` with the workspace's own Biome and configuration (`biome check
 * --write`): the templates are written for short names, and a longer name moves line breaks and import order.
 */
export function formatWithBiome(root: string, paths: readonly string[]): FormatResult {
  let biome: string;
  try {
    biome = require.resolve('@biomejs/biome/bin/biome', { paths: [root] });
  } catch {
    return { ran: false, ok: true, output: '' };
  }
  const result = spawnSync(process.execPath, [biome, 'check', '--write', ...paths], {
    cwd: root,
    encoding: 'utf8',
  });
  return { ran: true, ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
