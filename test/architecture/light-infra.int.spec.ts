/**
 * Loading the infrastructure stays light (docs/design.md, Layout): requiring an infra package loads no NestJS
 * (the observability root entry is Nest-free; the HTTP services' parts are in @tidemark/http), and the Kafka
 * wiring loads no part of the embedded broker. Each package is required in a fresh Node process started in the
 * repository, so what it loads is all it needs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join, sep } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../support/deployment';

/** The modules a fresh process has loaded after requiring the package. */
function modulesLoadedBy(name: string): string[] {
  const script = `require(${JSON.stringify(name)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const output = execFileSync(process.execPath, ['-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(output) as string[];
}

const under = (folder: string) => (path: string) => path.includes(`${sep}${folder}${sep}`);

const PACKAGES = [
  { name: '@tidemark/kafka-protocol', dir: 'infra/kafka-protocol' },
  { name: '@tidemark/observability', dir: 'infra/observability' },
  { name: '@tidemark/kafka', dir: 'infra/kafka' },
  { name: '@tidemark/broker', dir: 'infra/broker' },
  { name: '@tidemark/search', dir: 'infra/search' },
];

describe('requiring an infra package', () => {
  for (const { name, dir } of PACKAGES) {
    test(`${name} loads no module of NestJS`, () => {
      const loaded = modulesLoadedBy(name);
      assert.ok(
        loaded.includes(join(REPO_ROOT, dir, 'dist', 'src', 'index.js')),
        `${name}'s entry was loaded from this checkout`,
      );
      assert.deepEqual(loaded.filter(under('@nestjs')), [], `modules of NestJS loaded by ${name}`);
    });
  }

  test('@tidemark/kafka loads no part of the embedded broker', () => {
    const loaded = modulesLoadedBy('@tidemark/kafka');
    assert.deepEqual(
      loaded.filter((path) => path.startsWith(join(REPO_ROOT, 'infra', 'broker') + sep)),
      [],
      'modules of @tidemark/broker loaded by @tidemark/kafka',
    );
    // The check can fail: the broker itself loads its own modules.
    assert.ok(
      modulesLoadedBy('@tidemark/broker').some((path) =>
        path.startsWith(join(REPO_ROOT, 'infra', 'broker') + sep),
      ),
    );
  });
});
