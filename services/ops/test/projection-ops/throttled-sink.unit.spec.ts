import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Sink } from '@tidemark/projection-runtime';
import { ThrottledSink } from '../../src/projection-ops/throttled-sink';

/** A sink that answers nothing: only what the wrapper forwards matters here. */
function fakeSink(extra: Partial<Sink> = {}): Sink {
  const none = () => Promise.reject(new Error('not used'));
  return {
    store: 'postgres',
    prepare: none,
    checkpoints: none,
    load: none,
    commit: none,
    read: none,
    drop: none,
    close: none,
    ...extra,
  };
}

describe('ThrottledSink', () => {
  test('has an activation exactly when the wrapped sink does, and runs the wrapped one', async () => {
    assert.equal(new ThrottledSink(fakeSink(), 10).activate, undefined);
    const calls: string[] = [];
    const inner = fakeSink({
      activate: async () => {
        calls.push('activate');
        return {
          undo: async () => {
            calls.push('undo');
          },
        };
      },
    });
    const activation = await new ThrottledSink(inner, 10).activate?.();
    await activation?.undo();
    assert.deepEqual(calls, ['activate', 'undo']);
  });
});
