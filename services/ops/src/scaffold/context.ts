/**
 * What `tidemark new context` writes: a context package (commands, events, decider, context definition and a
 * Given/When/Then test) and its projections package (a Postgres detail view, its read route, the projection
 * set, an example and a Given/Then test), plus the deployment module's part. Planned here, written by the CLI.
 */
import path from 'node:path';
import type { DeploymentAddition } from './edits';
import type { ContextNames } from './names';
import { renderTemplate } from './templates';
import { domainDir, projectionsDir as projectionsDirOf, type SdkVersions } from './workspace';

/** A file to write: its path relative to the workspace root, and its text. */
export interface PlannedFile {
  path: string;
  content: string;
}

export interface ContextPlan {
  contextDir: string;
  projectionsDir: string;
  files: PlannedFile[];
  deployment: DeploymentAddition;
}

/** The template values of a context's names. */
export function contextValues(names: ContextNames): Record<string, string> {
  return { ...names };
}

/** package.json of a generated package: scripts like the repository's packages, dependencies sorted. */
function manifest(
  name: string,
  dir: string,
  dependencies: Record<string, string>,
  runTests: string,
): PlannedFile {
  const sorted = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => (a < b ? -1 : 1)));
  const content = {
    name,
    version: '0.1.0',
    private: true,
    main: 'dist/src/index.js',
    types: 'dist/src/index.d.ts',
    scripts: {
      build: 'rm -rf dist && tsc -p tsconfig.json',
      // The repository's test runner: the compiled *.<tier>.spec.js files under dist/, with node's test runner.
      test: `node ${runTests} --here`,
      'test:unit': `node ${runTests} --here unit`,
      lint: 'biome check .',
    },
    dependencies: sorted,
  };
  return { path: `${dir}/package.json`, content: `${JSON.stringify(content, null, 2)}\n` };
}

/** Everything `tidemark new context` writes for `names` (paths relative to the workspace root). */
export function planContext(names: ContextNames, versions: SdkVersions): ContextPlan {
  const contextDir = domainDir(names.name);
  const projectionsDir = projectionsDirOf(names.name);
  const values = contextValues(names);
  const upTo = (dir: string, file: string) => path.posix.relative(dir, file);
  const sdk = {
    '@tidemark/schemas': versions.schemas,
    '@tidemark/sdk': versions.sdk,
    zod: versions.zod,
  };
  const tsconfig = (dir: string) =>
    renderTemplate('context/tsconfig.json', { 'tsconfig-base': upTo(dir, 'tsconfig.base.json') });
  const template = (dir: string, from: string, to = from): PlannedFile => ({
    path: `${dir}/${to}`,
    content: renderTemplate(from, values),
  });
  const files: PlannedFile[] = [
    manifest(names.package, contextDir, sdk, upTo(contextDir, 'scripts/run-tests.mjs')),
    { path: `${contextDir}/tsconfig.json`, content: tsconfig(contextDir) },
    ...['src/commands.ts', 'src/events.ts', 'src/decider.ts', 'src/context.ts', 'src/index.ts'].map((file) =>
      template(contextDir, `context/${file}`, file),
    ),
    template(contextDir, 'context/test/decider.unit.spec.ts', 'test/decider.unit.spec.ts'),
    manifest(
      names['projections package'],
      projectionsDir,
      { ...sdk, [names.package]: '0.1.0' },
      upTo(projectionsDir, 'scripts/run-tests.mjs'),
    ),
    { path: `${projectionsDir}/tsconfig.json`, content: tsconfig(projectionsDir) },
    template(projectionsDir, 'projections/src/detail.ts', `src/${names['agg-name']}-detail.ts`),
    template(projectionsDir, 'projections/src/queries.ts', 'src/queries.ts'),
    template(projectionsDir, 'projections/src/index.ts', 'src/index.ts'),
    template(projectionsDir, 'projections/test/projection.unit.spec.ts', 'test/projection.unit.spec.ts'),
  ];
  return {
    contextDir,
    projectionsDir,
    files,
    deployment: {
      packages: [names.package, names['projections package']],
      requires: renderTemplate('deployment/requires.js', values),
      entry: renderTemplate('deployment/entry.js', values),
    },
  };
}

/** A deployment module that hosts only the context of `addition`. */
export function newDeploymentModule(addition: DeploymentAddition): string {
  const indent = (text: string, by: string) =>
    text
      .replace(/\n+$/, '')
      .split('\n')
      .map((line) => (line.length > 0 ? `${by}${line}` : line))
      .join('\n');
  return renderTemplate('deployment/tidemark.config.js', {
    requires: addition.requires.replace(/\n+$/, ''),
    entry: indent(addition.entry, '    '),
  });
}
