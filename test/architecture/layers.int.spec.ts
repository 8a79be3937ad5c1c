/**
 * The layering rules (docs/design.md, Layout; scripts/check-layers.mjs, run by `npm run lint`): platform packages
 * never depend on, import or name a context; dependencies point down (services -> projections -> infra ->
 * schemas); contexts use only the SDK. The rule holds for this repository, and fails on a tree that breaks it on
 * purpose, naming every violation.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/deployment';

type CheckLayers = (root: string) => string[];

async function checker(): Promise<CheckLayers> {
  const url = pathToFileURL(join(REPO_ROOT, 'scripts', 'check-layers.mjs')).href;
  return ((await import(url)) as { checkLayers: CheckLayers }).checkLayers;
}

const scratch = mkdtempSync(join(tmpdir(), 'tidemark-layers-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function write(path: string, content: unknown): void {
  const file = join(scratch, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

const pkg = (name: string, dependencies: string[] = []) => ({
  name,
  dependencies: Object.fromEntries(dependencies.map((d) => [d, '0.1.0'])),
});

describe('layering rules', () => {
  test('hold for this repository', async () => {
    assert.deepEqual((await checker())(REPO_ROOT), []);
  });

  test('name every deliberate violation', async () => {
    write('package.json', {
      name: 'fixture',
      workspaces: ['schemas/*', 'infra/*', 'services/*', 'services/contexts/*/*', 'projections/*'],
    });
    write('schemas/core/package.json', pkg('@t/schemas'));
    write('schemas/sdk/package.json', pkg('@t/sdk', ['@t/schemas']));
    write('infra/broker/package.json', pkg('@t/broker'));
    write('infra/kafka/package.json', pkg('@t/kafka', ['@t/broker', '@t/gateway']));
    write('services/gateway/package.json', pkg('@t/gateway', ['@t/orders', '@t/kafka']));
    write(
      'services/gateway/src/routes.ts',
      "import { ordersContext } from '@t/orders';\nexport const context = 'orders';\nexport { ordersContext };\n",
    );
    // A test of the platform may name a context: only src counts.
    write('services/gateway/test/routes.spec.ts', "import '@t/orders';\nconst c = 'orders';\n");
    write('services/contexts/orders/domain/package.json', pkg('@t/orders', ['@t/sdk']));
    write(
      'services/contexts/orders/domain/src/index.ts',
      "import { x } from '@t/gateway';\nexport const y = x;\n",
    );
    // The context's read side uses its own domain: allowed.
    write(
      'services/contexts/orders/projections/package.json',
      pkg('@t/orders-projections', ['@t/orders', '@t/sdk']),
    );
    write(
      'services/contexts/orders/projections/src/index.ts',
      "import { ordersContext } from '@t/orders';\nexport const c = ordersContext;\n",
    );

    const violations = (await checker())(scratch).sort();
    assert.deepEqual(violations, [
      'infra/kafka: depends on @t/broker, the embedded broker (the client helpers must not load it)',
      'infra/kafka: depends on @t/gateway (services/gateway), a layer above (infra may use only what is below it)',
      'services/contexts/orders/domain: the context package imports (services/contexts/orders/domain/src/index.ts) the platform package @t/gateway: contexts use only the SDK',
      "services/gateway/src/routes.ts: the platform names the context 'orders'",
      'services/gateway: the platform package depends on the context package @t/orders (services/contexts/orders/domain)',
      'services/gateway: the platform package imports (services/gateway/src/routes.ts) the context package @t/orders (services/contexts/orders/domain)',
    ]);
  });
});
