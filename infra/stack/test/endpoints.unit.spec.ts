import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeEndpoints, shapeEndpoints } from '../src/index';

describe('endpoints.json shaping', () => {
  test('keeps known non-empty parts in canonical order', () => {
    const shaped = shapeEndpoints({
      memcached: '127.0.0.1:21211',
      broker: '127.0.0.1:19092',
      apiKey: 'dev',
      gateway: undefined,
      search: '',
      metrics: null,
      bogus: 'x',
    });
    assert.deepEqual(shaped, { broker: '127.0.0.1:19092', memcached: '127.0.0.1:21211', apiKey: 'dev' });
    assert.deepEqual(Object.keys(shaped), ['broker', 'memcached', 'apiKey']);
  });

  test('merge adds parts and null removes them', () => {
    const merged = mergeEndpoints(
      { broker: 'b:1', redis: 'redis://r:2' },
      { gateway: 'http://127.0.0.1:8080', redis: null },
    );
    assert.deepEqual(merged, { gateway: 'http://127.0.0.1:8080', broker: 'b:1' });
  });
});
