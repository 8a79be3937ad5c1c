import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { EventRegistry } from '../src/registry';

const registry = new EventRegistry([
  {
    type: 'Named',
    versions: [
      { version: 1, schema: z.object({ name: z.string() }) },
      {
        version: 2,
        schema: z.object({ name: z.string(), locale: z.string() }),
        upcast: (previous: unknown) => ({ ...(previous as { name: string }), locale: 'nl' }),
      },
    ],
  },
  { type: 'Other', versions: [{ version: 1, schema: z.object({ name: z.string() }) }] },
]);

describe('EventRegistry.read', () => {
  it('validates at the stored version and upcasts to the latest', () => {
    assert.deepEqual(registry.read('Named', 1, { name: 'a' }), { name: 'a', locale: 'nl' });
    assert.throws(() => registry.read('Named', 1, { name: 3 }), /does not match its schema/);
    assert.throws(() => registry.read('Named', 3, { name: 'a' }), /no schema version 3/);
  });

  it('a payload it has read comes back as is (no second zod pass), but only for the same type', () => {
    const read = registry.read('Named', 1, { name: 'a' });
    assert.equal(registry.read('Named', 1, read), read);
    assert.equal(registry.read('Named', 2, read), read);
    // The same object offered as another type is validated as that type.
    assert.notEqual(registry.read('Other', 1, read), read);
    assert.deepEqual(registry.read('Other', 1, read), { name: 'a' });
  });

  it('the read mark is invisible to keys, spread, JSON and deepEqual, and a frozen payload is read as usual', () => {
    const read = registry.read('Named', 1, { name: 'a' }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(read), ['name', 'locale']);
    assert.deepStrictEqual({ ...read }, { name: 'a', locale: 'nl' });
    assert.deepStrictEqual(read, { name: 'a', locale: 'nl' });
    assert.equal(JSON.stringify(read), '{"name":"a","locale":"nl"}');
    const frozen = Object.freeze({ name: 'b', locale: 'en' });
    assert.deepEqual(registry.read('Named', 2, frozen), { name: 'b', locale: 'en' });
    // A different registry does not take this one's mark for its own read.
    const other = new EventRegistry([]);
    assert.throws(() => other.read('Named', 2, read), /unknown event type/);
  });
});
