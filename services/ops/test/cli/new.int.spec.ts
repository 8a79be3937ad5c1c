/**
 * `tidemark new` on the command line (it writes files and runs as a process: the int tier): --help documents
 * it, and its refusals are usage errors (exit code 2) that write nothing: a bad name, an unknown store, a folder
 * that exists, a directory that is not a workspace root.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';

const CLI = resolve(__dirname, '../../../bin/tidemark.js');
const cli = (args: string[], cwd?: string) =>
  spawnSync(process.execPath, [CLI, 'new', ...args], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });

describe('tidemark new on the command line', () => {
  const root = mkdtempSync(join(tmpdir(), 'tidemark-new-cli-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'x', private: true, workspaces: ['services/contexts/*/*'] }),
  );
  writeFileSync(join(root, 'tsconfig.base.json'), '{}');

  test('--help documents both subcommands and every option', () => {
    const help = cli(['--help']);
    assert.equal(help.status, 0);
    for (const text of [
      'new context <name>',
      'new projection <context> <name>',
      '--dir',
      '--scope',
      '--aggregate',
      '--store',
    ]) {
      assert.ok(help.stdout.includes(text), text);
    }
  });

  test('a bad name, an unknown store or a missing subcommand is a usage error (exit code 2)', () => {
    const bad = cli(['context', 'Gift_Cards', '--dir', root]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /lowercase letters, digits and single dashes/);
    const store = cli(['projection', 'orders', 'order-x', '--store', 'mongodb', '--dir', root]);
    assert.equal(store.status, 2);
    assert.match(store.stderr, /--store must be one of postgres, redis, memcached, elasticsearch/);
    assert.equal(cli([]).status, 2);
  });

  test('a folder that exists is refused, and nothing is written', () => {
    mkdirSync(join(root, 'services', 'contexts', 'orders', 'projections'), { recursive: true });
    const taken = cli(['context', 'orders', '--dir', root]);
    assert.equal(taken.status, 2);
    assert.match(taken.stderr, /orders\/projections exists already/);
    assert.equal(existsSync(join(root, 'services', 'contexts', 'orders', 'domain')), false);
  });

  test('a directory without a workspace package.json is not a place to generate into', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'tidemark-new-cli-'));
    try {
      const refused = cli(['context', 'orders'], elsewhere);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /has no package\.json: run this at the root of your repository/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
