/**
 * The Kafka client helpers stay light: requiring @tidemark/kafka loads the wire codecs from
 * @tidemark/kafka-protocol, never the embedded broker (infra/broker). node --test runs each file in its own
 * process, so require.cache starts empty of Tidemark code; the test checks that before loading.
 */
import assert from 'node:assert/strict';
import { join, resolve, sep } from 'node:path';
import { test } from 'node:test';

const packageDist = resolve(__dirname, '..', 'src') + sep;
const infra = resolve(__dirname, '..', '..', '..');
const brokerPackage = join(infra, 'broker') + sep;
const protocolPackage = join(infra, 'kafka-protocol') + sep;

test('requiring @tidemark/kafka does not load @tidemark/broker', () => {
  const stale = Object.keys(require.cache).filter((path) => path.startsWith(packageDist));
  assert.deepEqual(stale, [], '@tidemark/kafka must not be loaded yet (a fresh process per test file)');

  require('@tidemark/kafka');

  const loaded = Object.keys(require.cache);
  assert.ok(
    loaded.includes(join(packageDist, 'index.js')),
    'the package entry was loaded from this checkout',
  );
  assert.ok(
    loaded.some((path) => path.startsWith(protocolPackage)),
    'the codecs were loaded from @tidemark/kafka-protocol',
  );
  assert.deepEqual(
    loaded.filter(
      (path) => path.startsWith(brokerPackage) || path.includes(`${sep}@tidemark${sep}broker${sep}`),
    ),
    [],
    'modules of the embedded broker loaded by @tidemark/kafka',
  );
});
