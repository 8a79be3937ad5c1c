#!/usr/bin/env node
// Runs compiled test files (dist/**/*.<tier>.spec.js) with node's test runner.
// Tiers follow the file suffix: unit (no I/O), int (real servers), e2e (running platform), fault (kill/pause).
// Usage: run-tests.mjs [--here] [unit|int|e2e|fault ...]   (default: every tier, whole repo)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const here = args.includes('--here');
const tiers = args.filter((a) => !a.startsWith('--'));
const wanted = tiers.length > 0 ? tiers : ['unit', 'int', 'e2e', 'fault'];
const base = here ? process.cwd() : root;

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) walk(path, out);
    else if (path.includes(`${'/'}dist${'/'}`) && wanted.some((t) => name.endsWith(`.${t}.spec.js`)))
      out.push(path);
  }
  return out;
}

const files = walk(base, []).sort();
if (files.length === 0) {
  console.error(`no compiled test files for tiers ${wanted.join(',')} under ${base}; run the build first`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
const result = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: { ...process.env, TIDEMARK_LOG_LEVEL: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' } },
);
process.exit(result.status ?? 1);
