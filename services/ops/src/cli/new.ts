import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { STORE_KINDS, type StoreKind } from '@tidemark/sdk';
import { newDeploymentModule, type PlannedFile, planContext } from '../scaffold/context';
import { addContextToDeployment, CONTEXT_MARKER } from '../scaffold/edits';
import { checkContextName, contextNames, projectionNames } from '../scaffold/names';
import { loadBuiltContext, planProjection } from '../scaffold/projection';
import {
  CONTEXTS_DIR,
  formatWithBiome,
  projectionsDir,
  sdkVersions,
  shown,
  workspaceGlobs,
  workspacePackageNames,
} from '../scaffold/workspace';
import { parseOrUsage, UsageError } from './usage-error';

const HELP = `tidemark new: generate a context, or a projection of one, to start your own from

Usage:
  tidemark new context <name> [--dir <root>] [--scope <scope>] [--aggregate <name>]
  tidemark new projection <context> <name> --store <store> [--dir <root>]

Subcommands:
  context <name>         Write the context's folder services/contexts/<name>: domain/, the package
                         <scope>/<name> (commands, events, a decider with its rules, the context definition
                         and a Given/When/Then test), and projections/, the package
                         <scope>/<name>-projections (a Postgres view, its read
                         route GET /v1/<name>/:id, the projection set, an example and a Given/Then test). Then
                         host the context in <root>/tidemark.config.js: above its line
                         "${CONTEXT_MARKER}", or in a new module hosting only it.
                         Refused when either folder exists.
  projection <context> <name>
                         Add projection <name> in store --store to services/contexts/<context>/projections:
                         src/<name>.ts, its
                         test, its place in the package's projection set, and a read route: postgres and
                         memcached GET /v1/<context>/:id/<name> (one document per aggregate; a memcached view
                         caches the package's first Postgres view and falls back to it), redis
                         GET /v1/<name>/:day (events of every aggregate gathered per day), elasticsearch
                         GET /v1/<name> (a search). Reads the built packages: build them first.

Options:
  --dir <root>           The repository root: its package.json's workspaces include services/contexts/*/*
                         (default: the current directory)
  --scope <scope>        The npm scope of the new packages (default @tidemark)
  --aggregate <name>     The aggregate's name (default: the singular of the context name: orders -> order)
  --store <store>        ${STORE_KINDS.join(', ')}
  -h, --help             Show this text

Names are lowercase letters, digits and single dashes, starting with a letter. What is written is formatted
with the workspace's own Biome (biome check --write), when it has one. docs/guide.md walks through it all.
`;

export interface NewCommandOptions {
  /** Where the summary goes; default: stdout. */
  write?: (text: string) => void;
  /** Default: process.cwd(). */
  cwd?: string;
}

/** `tidemark new context|projection`. Usage mistakes, and folders or names already taken, are UsageErrors. */
export async function runNew(argv: string[], options: NewCommandOptions = {}): Promise<void> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const cwd = options.cwd ?? process.cwd();
  const { values, positionals } = parseOrUsage(parse, argv, HELP);
  if (values.help) {
    write(HELP);
    return;
  }
  const [subcommand, ...rest] = positionals;
  const root = path.resolve(cwd, values.dir ?? '.');
  switch (subcommand) {
    case 'context': {
      const [name, ...extra] = rest;
      if (name === undefined || extra.length > 0) throw new UsageError(`give one context name\n\n${HELP}`);
      if (values.store !== undefined) throw new UsageError(`--store belongs to 'new projection'\n\n${HELP}`);
      return newContext(root, name, values.scope ?? '@tidemark', values.aggregate, cwd, write);
    }
    case 'projection': {
      const [context, name, ...extra] = rest;
      if (context === undefined || name === undefined || extra.length > 0) {
        throw new UsageError(`give a context and a projection name\n\n${HELP}`);
      }
      if (values.scope !== undefined || values.aggregate !== undefined) {
        throw new UsageError(`--scope and --aggregate belong to 'new context'\n\n${HELP}`);
      }
      if (values.store === undefined || !(STORE_KINDS as readonly string[]).includes(values.store)) {
        throw new UsageError(`--store must be one of ${STORE_KINDS.join(', ')}\n\n${HELP}`);
      }
      return newProjection(root, context, name, values.store as StoreKind, cwd, write);
    }
    case undefined:
      throw new UsageError(`say what to generate: context or projection\n\n${HELP}`);
    default:
      throw new UsageError(`unknown subcommand '${subcommand}'\n\n${HELP}`);
  }
}

/** Lines shown under an item of the summary. */
const indent = (text: string) =>
  text
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');

function writeFiles(root: string, files: readonly PlannedFile[]): void {
  for (const file of files) {
    const target = path.join(root, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
}

/** Formats what was written; a workspace without Biome, or a Biome that objects, is only reported. */
function format(root: string, paths: readonly string[], write: (text: string) => void): void {
  const result = formatWithBiome(root, paths);
  if (!result.ran) {
    write('\n(no Biome in this workspace: the new files are left as generated, unformatted)\n');
  } else if (!result.ok) {
    write(`\nbiome check --write reported problems in the new files:\n${result.output}\n`);
  }
}

async function newContext(
  root: string,
  name: string,
  scope: string,
  aggregate: string | undefined,
  cwd: string,
  write: (text: string) => void,
): Promise<void> {
  const globs = workspaceGlobs(root);
  const names = contextNames(name, scope, aggregate);
  const plan = planContext(names, sdkVersions());
  for (const dir of [plan.contextDir, plan.projectionsDir]) {
    if (existsSync(path.join(root, dir)))
      throw new UsageError(`${shown(path.join(root, dir), cwd)} exists already`);
  }
  const packages = workspacePackageNames(root, globs);
  for (const pkg of plan.deployment.packages) {
    if (packages.has(pkg) || existsSync(path.join(root, 'node_modules', pkg))) {
      throw new UsageError(`a package named ${pkg} exists already: choose another context name or --scope`);
    }
  }
  if (!existsSync(path.join(root, 'tsconfig.base.json'))) {
    throw new UsageError(`${root} has no tsconfig.base.json for the new packages' tsconfig.json to extend`);
  }

  writeFiles(root, plan.files);
  const config = path.join(root, 'tidemark.config.js');
  const formatted = [plan.contextDir, plan.projectionsDir];
  let hosted: string;
  if (!existsSync(config)) {
    writeFileSync(config, newDeploymentModule(plan.deployment));
    formatted.push('tidemark.config.js');
    hosted = `a new deployment module, hosting ${name}`;
  } else {
    const source = readFileSync(config, 'utf8');
    const updated = addContextToDeployment(source, plan.deployment);
    if (updated === null) {
      hosted =
        `not changed: it has no line '${CONTEXT_MARKER}'. Add ${name} to it yourself:\n` +
        `${indent(plan.deployment.requires)}\n    and to its contexts:\n${indent(plan.deployment.entry)}`;
    } else if (updated === source) {
      hosted = `hosts ${name} already`;
    } else {
      writeFileSync(config, updated);
      formatted.push('tidemark.config.js');
      hosted = `hosts ${name} now (added above its marker line)`;
    }
  }
  format(root, formatted, write);

  const at = (file: string) => shown(path.join(root, file), cwd);
  const both = `${names.package},${names['projections package']}`;
  const configShown = shown(config, cwd);
  write(
    `Created the ${name} context (aggregate: ${names['agg-name']}):\n` +
      `  ${at(plan.contextDir)}/  ${names.package}: commands, events, the decider and its test\n` +
      `  ${at(plan.projectionsDir)}/  ${names['projections package']}: the ${names['agg-name']}-detail view (Postgres), GET /v1/${name}/:id, an example\n` +
      `  ${configShown}  ${hosted}\n\n` +
      'Next steps:\n' +
      (shown(root, cwd) === '.' ? '' : `  cd ${shown(root, cwd)}\n`) +
      '  npm install   # links the new packages into node_modules\n' +
      `  npx nx run-many -t build -p ${both}\n` +
      `  npx nx run-many -t test -p ${both}\n` +
      `  npx tidemark up --config ${path.relative(root, config)}   # then try the ${name} example it prints\n` +
      'docs/guide.md walks through every file and step.\n',
  );
}

async function newProjection(
  root: string,
  context: string,
  name: string,
  store: StoreKind,
  cwd: string,
  write: (text: string) => void,
): Promise<void> {
  workspaceGlobs(root);
  checkContextName(context);
  const names = projectionNames(name);
  if (!existsSync(path.join(root, CONTEXTS_DIR, context))) {
    throw new UsageError(
      `there is no context ${context} (${shown(path.join(root, CONTEXTS_DIR, context), cwd)})`,
    );
  }
  const built = loadBuiltContext(root, context);
  const plan = planProjection(root, built, names, store);
  writeFiles(root, [...plan.files, ...plan.edits]);
  format(
    root,
    [...plan.files, ...plan.edits].map((file) => file.path),
    write,
  );
  const dir = path.join(root, projectionsDir(context));
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
  const lines = [...plan.files, ...plan.edits].map((file) => `  ${shown(path.join(root, file.path), cwd)}`);
  write(
    `Added the ${name} projection (${store}) to ${shown(dir, cwd)}, read at ${plan.route}:\n${lines.join('\n')}\n` +
      plan.notes.map((note) => `Note: ${note}\n`).join('') +
      (plan.manual.length > 0 ? `\nBy hand:\n${plan.manual.map((step) => `  - ${step}`).join('\n')}\n` : '') +
      '\nNext steps:\n' +
      `  npx nx run-many -t test -p ${manifest.name ?? `${context}-projections`}\n` +
      '  restart tidemark up: the new projector starts from the beginning of the log\n',
  );
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      scope: { type: 'string' },
      aggregate: { type: 'string' },
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
