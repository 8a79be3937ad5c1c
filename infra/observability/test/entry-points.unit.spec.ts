/**
 * The one entry point (logging, metrics endpoint) loads no NestJS, so the broker and the search server can use
 * it; the HTTP services' parts (error answers, request observer, Nest's logger) are in @tidemark/http, and the
 * exports map has no other entry. node --test runs each file in its own process; the test checks that
 * observability is not loaded yet before loading it.
 */
import assert from 'node:assert/strict';
import { join, resolve, sep } from 'node:path';
import { test } from 'node:test';

const packageDist = resolve(__dirname, '..', 'src') + sep;
const nestModules = () => Object.keys(require.cache).filter((path) => path.includes(`${sep}@nestjs${sep}`));

test('the entry loads no module under /@nestjs/ and has no HTTP parts', () => {
  assert.deepEqual(
    Object.keys(require.cache).filter((path) => path.startsWith(packageDist)),
    [],
    'observability must not be loaded yet (a fresh process per test file)',
  );

  const root = require('@tidemark/observability') as Record<string, unknown>;

  assert.ok(Object.keys(require.cache).includes(join(packageDist, 'index.js')), 'loaded from this checkout');
  assert.equal(typeof root.createLogger, 'function');
  assert.equal(typeof root.serveMetrics, 'function');
  for (const name of ['PinoNestLogger', 'answerError', 'observeRequests', 'MAX_PARAM_LENGTH']) {
    assert.equal(root[name], undefined, name);
  }
  assert.deepEqual(nestModules(), [], 'modules of NestJS loaded by the entry');
});

test('the exports map has no /http entry (the HTTP parts moved to @tidemark/http)', () => {
  assert.throws(() => require('@tidemark/observability/http'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  assert.deepEqual(nestModules(), []);
});
