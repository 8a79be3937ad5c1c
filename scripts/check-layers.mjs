#!/usr/bin/env node
// The layering rules of the repository (docs/design.md, Layout), checked from package.json files and import
// specifiers. Run by `npm run lint`; test/architecture runs it against this tree and against a deliberate violation.
//
//   - A context is a folder services/contexts/<name>; its packages are the folders in it (its domain, its
//     projections and queries).
//   - Platform packages (every other package but the test workspace) never depend on, import or name a context
//     (a quoted '<name>' or a path segment /<name>/ in their sources; their tests may).
//   - Dependencies point down: services -> projections -> infra -> schemas (schemas/core, then schemas/sdk).
//     Context packages depend only on schemas/* and their own context's packages.
//   - infra/kafka does not depend on the embedded broker.
//
// Usage: check-layers.mjs [root]   (exit code 1 and one line per violation when a rule is broken)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Layer of a package folder; a package may depend on packages of its own layer or below. */
function layerOf(dir) {
  if (dir.startsWith('schemas/')) return dir === 'schemas/core' ? 0 : 1;
  if (dir.startsWith('infra/')) return 2;
  if (dir.startsWith('projections/')) return 3;
  if (dir.startsWith('services/')) return 4;
  return 5;
}

const LAYER_NAMES = ['schemas/core', 'schemas/sdk', 'infra', 'projections', 'services', 'test'];

/** The workspace folders the root package.json's globs name (`*` stands for one folder name). */
function packageDirs(root) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const expand = (prefix, segments) => {
    if (segments.length === 0) return existsSync(join(root, prefix, 'package.json')) ? [prefix] : [];
    const [segment, ...rest] = segments;
    if (segment !== '*') return expand(prefix ? `${prefix}/${segment}` : segment, rest);
    const parent = join(root, prefix);
    if (!existsSync(parent)) return [];
    return readdirSync(parent)
      .sort()
      .filter((name) => statSync(join(parent, name)).isDirectory())
      .flatMap((name) => expand(`${prefix}/${name}`, rest));
  };
  return [...new Set((manifest.workspaces ?? []).flatMap((pattern) => expand('', pattern.split('/'))))];
}

function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;

/** Every violation of the rules under `root`, as readable lines (none: []). */
export function checkLayers(root) {
  root = resolve(root);
  const dirs = packageDirs(root);
  const contextOf = (dir) => (dir.startsWith('services/contexts/') ? dir.split('/')[2] : undefined);
  const contextNames = [...new Set(dirs.map(contextOf).filter((name) => name !== undefined))];
  const packages = dirs.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    const context = contextOf(dir);
    return { dir, name: manifest.name, dependencies: Object.keys(manifest.dependencies ?? {}), context };
  });
  const byName = new Map(packages.map((p) => [p.name, p]));
  const violations = [];
  for (const pkg of packages) {
    if (pkg.dir === 'test') continue;
    const check = (target, how) => {
      const other = byName.get(target);
      if (!other || other === pkg) return;
      if (pkg.context === undefined && other.context !== undefined) {
        violations.push(
          `${pkg.dir}: the platform package ${how} the context package ${other.name} (${other.dir})`,
        );
      } else if (pkg.context !== undefined && other.context === undefined && layerOf(other.dir) > 1) {
        violations.push(
          `${pkg.dir}: the context package ${how} the platform package ${other.name}: contexts use only the SDK`,
        );
      } else if (pkg.context !== undefined && other.context !== undefined && other.context !== pkg.context) {
        violations.push(`${pkg.dir}: ${how} ${other.name} of another context (${other.context})`);
      } else if (pkg.context === undefined && layerOf(other.dir) > layerOf(pkg.dir)) {
        violations.push(
          `${pkg.dir}: ${how} ${other.name} (${other.dir}), a layer above (${LAYER_NAMES[layerOf(pkg.dir)]} may use only what is below it)`,
        );
      } else if (pkg.dir === 'infra/kafka' && other.dir === 'infra/broker') {
        violations.push(
          `${pkg.dir}: ${how} ${other.name}, the embedded broker (the client helpers must not load it)`,
        );
      }
    };
    for (const dependency of pkg.dependencies) check(dependency, 'depends on');
    for (const file of sourceFiles(join(root, pkg.dir, 'src'))) {
      const text = readFileSync(file, 'utf8');
      const where = relative(root, file);
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[1];
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0];
        check(name, `imports (${where})`);
      }
      if (pkg.context !== undefined) continue;
      for (const context of contextNames) {
        const named = new RegExp(`['"\`]${context}['"\`]|/${context}['"\`/]`);
        if (named.test(text)) violations.push(`${where}: the platform names the context '${context}'`);
      }
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? resolve(fileURLToPath(import.meta.url), '../..');
  const violations = checkLayers(root);
  if (violations.length > 0) {
    process.stderr.write(
      `layering rules broken (docs/design.md, Layout):\n${violations.map((v) => `  - ${v}`).join('\n')}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`layering rules hold (${packageDirs(resolve(root)).length} packages)\n`);
}
