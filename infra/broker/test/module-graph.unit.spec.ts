/**
 * Loading the broker stays light: requiring @tidemark/broker loads no NestJS (the observability entry it uses is
 * Nest-free; the HTTP services' parts are in @tidemark/http). node --test runs each file in
 * its own process, so require.cache starts empty of Tidemark code; the test checks that before loading.
 */
import assert from 'node:assert/strict';
import { join, resolve, sep } from 'node:path';
import { test } from 'node:test';

const packageDist = resolve(__dirname, '..', 'src') + sep;

test('requiring @tidemark/broker loads no module under /@nestjs/', () => {
  const stale = Object.keys(require.cache).filter((path) => path.startsWith(packageDist));
  assert.deepEqual(stale, [], 'the broker must not be loaded yet (a fresh process per test file)');

  require('@tidemark/broker');

  const loaded = Object.keys(require.cache);
  assert.ok(
    loaded.includes(join(packageDist, 'index.js')),
    'the package entry was loaded from this checkout',
  );
  assert.ok(
    loaded.some((path) => path.includes(`${sep}observability${sep}dist${sep}src${sep}`)),
    'the observability root entry was loaded',
  );
  assert.deepEqual(
    loaded.filter((path) => path.includes(`${sep}@nestjs${sep}`)),
    [],
    'modules of NestJS loaded by @tidemark/broker',
  );
});
