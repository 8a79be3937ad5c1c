/**
 * `tidemark new`, its pure parts: which names it accepts and what it derives from them (singular aggregate,
 * identifiers, query names), the files it plans for a context (paths, package manifests, tsconfig paths, no
 * placeholder left), and its edits of a team's files: a context added to a deployment module at its marker line
 * (or not, without one), a projection and its imports added to a package. (The command line: new.int.spec.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/cli/usage-error';
import { newDeploymentModule, planContext } from '../../src/scaffold/context';
import {
  addContextToDeployment,
  addExportAll,
  addImport,
  addNamedImport,
  CONTEXT_MARKER,
  insertAboveMarker,
} from '../../src/scaffold/edits';
import {
  checkContextName,
  checkProjectionName,
  contextNames,
  projectionNames,
  singular,
} from '../../src/scaffold/names';
import { render } from '../../src/scaffold/templates';

const VERSIONS = { sdk: '0.1.0', schemas: '0.1.0', zod: '^4.6.7' };

describe('names', () => {
  test('a context name is lowercase letters, digits and single dashes, starting with a letter', () => {
    for (const name of ['orders', 'gift-cards', 'b2b', 'a'.repeat(49)])
      assert.equal(checkContextName(name), name);
    for (const name of [
      'Orders',
      '1st',
      'gift_cards',
      'gift--cards',
      'orders-',
      '-orders',
      '',
      'a'.repeat(50),
    ]) {
      assert.throws(() => checkContextName(name), UsageError, name);
    }
    assert.throws(() => checkProjectionName('Order-Detail'), UsageError);
    assert.equal(checkProjectionName('order-detail'), 'order-detail');
  });

  test('the aggregate is the singular of the last word, by the common English endings', () => {
    const cases: [string, string][] = [
      ['orders', 'order'],
      ['gift-cards', 'gift-card'],
      ['categories', 'category'],
      ['addresses', 'address'],
      ['boxes', 'box'],
      ['batches', 'batch'],
      ['status', 'status'],
      ['analysis', 'analysis'],
      ['inventory', 'inventory'],
      ['days', 'day'],
    ];
    for (const [plural, one] of cases) assert.equal(singular(plural), one, plural);
  });

  test('every spelling the templates use, from the context, the aggregate and the scope', () => {
    const names = contextNames('gift-cards', '@acme');
    assert.deepEqual(names, {
      name: 'gift-cards',
      ctx: 'giftCards',
      NAME: 'GIFT_CARDS',
      'agg-name': 'gift-card',
      agg: 'giftCard',
      Agg: 'GiftCard',
      AGG: 'GIFT_CARD',
      'agg words': 'gift card',
      'a agg': 'a gift card',
      scope: '@acme',
      package: '@acme/gift-cards',
      'projections package': '@acme/gift-cards-projections',
    });
    assert.equal(contextNames('news', '@tidemark', 'article').Agg, 'Article');
    assert.equal(contextNames('orders', '@tidemark')['a agg'], 'an order');
  });

  test('a name whose query name would pass 40 characters, a bad scope or aggregate is refused', () => {
    assert.throws(() => contextNames(`a${'b'.repeat(44)}s`, '@tidemark'), /at most 40 characters/);
    assert.throws(() => contextNames('orders', 'tidemark'), /npm scope/);
    assert.throws(() => contextNames('orders', '@tidemark', 'Order'), /aggregate name 'Order'/);
    assert.throws(() => projectionNames(`p${'x'.repeat(45)}`), /at most 40 characters/);
    assert.deepEqual(projectionNames('order-daily'), {
      projection: 'order-daily',
      camel: 'orderDaily',
      Pascal: 'OrderDaily',
      CONSTANT: 'ORDER_DAILY',
      words: 'order daily',
    });
  });
});

describe('the planned context', () => {
  const plan = planContext(contextNames('gift-cards', '@acme'), VERSIONS);
  const file = (path: string) => {
    const found = plan.files.find((planned) => planned.path === path);
    assert.ok(found, path);
    return found.content;
  };

  test('the file tree of both packages', () => {
    assert.deepEqual(plan.files.map((planned) => planned.path).sort(), [
      'services/contexts/gift-cards/domain/package.json',
      'services/contexts/gift-cards/domain/src/commands.ts',
      'services/contexts/gift-cards/domain/src/context.ts',
      'services/contexts/gift-cards/domain/src/decider.ts',
      'services/contexts/gift-cards/domain/src/events.ts',
      'services/contexts/gift-cards/domain/src/index.ts',
      'services/contexts/gift-cards/domain/test/decider.unit.spec.ts',
      'services/contexts/gift-cards/domain/tsconfig.json',
      'services/contexts/gift-cards/projections/package.json',
      'services/contexts/gift-cards/projections/src/gift-card-detail.ts',
      'services/contexts/gift-cards/projections/src/index.ts',
      'services/contexts/gift-cards/projections/src/queries.ts',
      'services/contexts/gift-cards/projections/test/projection.unit.spec.ts',
      'services/contexts/gift-cards/projections/tsconfig.json',
    ]);
    for (const planned of plan.files) assert.doesNotMatch(planned.content, /\{\{|\}\}/, planned.path);
  });

  test('manifests: names, the SDK dependencies (sorted), the repository test runner; tsconfig paths', () => {
    const context = JSON.parse(file('services/contexts/gift-cards/domain/package.json'));
    assert.equal(context.name, '@acme/gift-cards');
    assert.deepEqual(context.dependencies, {
      '@tidemark/schemas': '0.1.0',
      '@tidemark/sdk': '0.1.0',
      zod: '^4.6.7',
    });
    assert.equal(context.scripts.test, 'node ../../../../scripts/run-tests.mjs --here');
    const projections = JSON.parse(file('services/contexts/gift-cards/projections/package.json'));
    assert.equal(projections.name, '@acme/gift-cards-projections');
    assert.deepEqual(Object.keys(projections.dependencies), [
      '@acme/gift-cards',
      '@tidemark/schemas',
      '@tidemark/sdk',
      'zod',
    ]);
    assert.equal(projections.scripts.test, 'node ../../../../scripts/run-tests.mjs --here');
    assert.equal(
      JSON.parse(file('services/contexts/gift-cards/domain/tsconfig.json')).extends,
      '../../../../tsconfig.base.json',
    );
    assert.equal(
      JSON.parse(file('services/contexts/gift-cards/projections/tsconfig.json')).extends,
      '../../../../tsconfig.base.json',
    );
  });

  test('the sources use the derived names: types, codes, route, projection name', () => {
    assert.match(file('services/contexts/gift-cards/domain/src/decider.ts'), /case 'CreateGiftCard':/);
    assert.match(
      file('services/contexts/gift-cards/domain/src/decider.ts'),
      /GIFT_CARDS_NOT_FOUND = 'GIFT_CARDS_NOT_FOUND'/,
    );
    assert.match(
      file('services/contexts/gift-cards/domain/src/context.ts'),
      /export const giftCardsContext = defineContext/,
    );
    assert.match(
      file('services/contexts/gift-cards/projections/src/queries.ts'),
      /path: '\/v1\/gift-cards\/:id'/,
    );
    assert.match(
      file('services/contexts/gift-cards/projections/src/gift-card-detail.ts'),
      /= 'gift-card-detail'/,
    );
    assert.match(file('services/contexts/gift-cards/projections/src/index.ts'), /aggregateId: 'gift-card-1'/);
  });
});

describe('edits of a team’s files', () => {
  const names = contextNames('gift-cards', '@acme');
  const { deployment } = planContext(names, VERSIONS);
  const hosting = `// @ts-check
/** A deployment module. */
const { defineDeployment } = require('@tidemark/sdk');
const { firstContext } = require('@acme/first');
const {
  firstProjections,
  firstQueries,
} = require('@acme/first-projections');

module.exports = defineDeployment({
  contexts: [
    { context: firstContext, projections: firstProjections, queries: firstQueries },
    ${CONTEXT_MARKER}
  ],
});
`;

  test('a context is added to a deployment module: requires after the last one, the entry above the marker', () => {
    const updated = addContextToDeployment(hosting, deployment);
    assert.ok(updated);
    assert.equal(
      updated,
      hosting
        .replace(
          "} = require('@acme/first-projections');\n",
          "} = require('@acme/first-projections');\n" +
            "const { giftCardsContext } = require('@acme/gift-cards');\n" +
            "const { giftCardProjectionSet, giftCardQueries, giftCardsExample } = require('@acme/gift-cards-projections');\n",
        )
        .replace(
          `    ${CONTEXT_MARKER}`,
          '    {\n      context: giftCardsContext,\n      projections: giftCardProjectionSet,\n' +
            '      queries: giftCardQueries,\n      example: giftCardsExample,\n    },\n' +
            `    ${CONTEXT_MARKER}`,
        ),
    );
    // Twice is once.
    assert.equal(addContextToDeployment(updated, deployment), updated);
  });

  test('a deployment module without the marker line is not touched', () => {
    assert.equal(addContextToDeployment(hosting.replace(CONTEXT_MARKER, '// the end'), deployment), null);
  });

  test('a new deployment module hosts only the new context, with the marker for the next one', () => {
    const module = newDeploymentModule(deployment);
    assert.match(
      module,
      /const \{ defineDeployment \} = require\('@tidemark\/sdk'\);\nconst \{ giftCardsContext \}/,
    );
    assert.match(
      module,
      /\n {4}\{\n {6}context: giftCardsContext,[\s\S]*\n {4}\},\n {4}\/\/ tidemark new context/,
    );
    assert.equal(addContextToDeployment(module, deployment), module);
  });

  test('a block above a marker takes its indentation; no marker, no change', () => {
    assert.equal(insertAboveMarker('[\n  // here\n]', '// here', 'a,\nb,\n'), '[\n  a,\n  b,\n  // here\n]');
    assert.equal(insertAboveMarker('[\n]', '// here', 'a,'), null);
  });

  test('imports and re-exports are added after the last of their kind, once', () => {
    const source =
      "/** A file. */\nimport { a } from './a';\nimport {\n  b,\n  c,\n} from './b';\n\nexport * from './a';\n\nconst x = 1;\n";
    const withImport = addImport(source, "import { d } from './d';");
    assert.equal(withImport, source.replace("} from './b';\n", "} from './b';\nimport { d } from './d';\n"));
    assert.equal(addImport(withImport, "import { d } from './d';"), withImport);
    assert.equal(
      addExportAll(source, "export * from './d';"),
      source.replace("export * from './a';\n", "export * from './a';\nexport * from './d';\n"),
    );
    assert.equal(
      addNamedImport(source, 'z', './a'),
      source.replace("import { a } from './a';", "import { a, z } from './a';"),
    );
    assert.equal(addNamedImport(source, 'c', './b'), source);
    assert.equal(
      addNamedImport(source, 'e', './e'),
      source.replace("} from './b';\n", "} from './b';\nimport { e } from './e';\n"),
    );
  });

  test('a placeholder without a value is an error, not a silent gap', () => {
    assert.equal(render('{{a}}-{{b}}', { a: '1', b: '2' }), '1-2');
    assert.throws(
      () => render('{{a}} {{missing}}', { a: '1' }, 'x.ts'),
      /x\.ts: no value for \{\{missing\}\}/,
    );
  });
});
