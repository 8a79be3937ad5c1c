/**
 * The two entry points: the root (logging, metrics endpoint) loads no NestJS, so the broker and the search server
 * can use it; `@tidemark/observability/http` (the exports map) carries the HTTP services' parts. node --test runs
 * each file in its own process; the root is checked before the /http entry is loaded.
 */
import assert from 'node:assert/strict';
import { join, resolve, sep } from 'node:path';
import { test } from 'node:test';

const packageDist = resolve(__dirname, '..', 'src') + sep;
const nestModules = () => Object.keys(require.cache).filter((path) => path.includes(`${sep}@nestjs${sep}`));

test('the root entry loads no module under /@nestjs/ and has no HTTP parts', () => {
  assert.deepEqual(
    Object.keys(require.cache).filter((path) => path.startsWith(packageDist)),
    [],
    'observability must not be loaded yet (a fresh process per test file)',
  );

  const root = require('@tidemark/observability') as Record<string, unknown>;

  assert.ok(Object.keys(require.cache).includes(join(packageDist, 'index.js')), 'loaded from this checkout');
  assert.equal(typeof root.createLogger, 'function');
  assert.equal(typeof root.serveMetrics, 'function');
  assert.equal(root.PinoNestLogger, undefined);
  assert.equal(root.answerError, undefined);
  assert.deepEqual(nestModules(), [], 'modules of NestJS loaded by the root entry');
});

test('@tidemark/observability/http resolves through the exports map and carries the HTTP parts', () => {
  const http = require('@tidemark/observability/http') as Record<string, unknown>;

  assert.ok(Object.keys(require.cache).includes(join(packageDist, 'http', 'index.js')));
  for (const name of ['answerError', 'answerFromHttpException', 'bodyParserError', 'PinoNestLogger']) {
    assert.equal(typeof http[name], 'function', name);
  }
  for (const name of ['requestObserver', 'observeFastifyRequests', 'routeOf']) {
    assert.equal(typeof http[name], 'function', name);
  }
  assert.equal(http.MAX_PARAM_LENGTH, 2048);
  assert.ok(nestModules().length > 0, 'the /http entry loads @nestjs/common');
});
