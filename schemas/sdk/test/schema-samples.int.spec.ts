/** loadSchemaSamples on sample directories written for the test (file I/O: the int tier). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSchemaSamples } from '../src/index';

test('loadSchemaSamples refuses badly named files and files that hold no array', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-samples-'));
  try {
    writeFileSync(join(dir, 'README.md'), 'ignored');
    writeFileSync(join(dir, 'PriceChanged.v1.json'), '[{"a":1},{"b":2}]');
    assert.deepEqual(loadSchemaSamples(dir), [
      { type: 'PriceChanged', schemaVersion: 1, payload: { a: 1 } },
      { type: 'PriceChanged', schemaVersion: 1, payload: { b: 2 } },
    ]);
    writeFileSync(join(dir, 'PriceChanged.v1.json'), '{"a":1}');
    assert.throws(() => loadSchemaSamples(dir), /expected a JSON array/);
    rmSync(join(dir, 'PriceChanged.v1.json'));
    writeFileSync(join(dir, 'PriceChanged.json'), '[]');
    assert.throws(() => loadSchemaSamples(dir), /named <EventType>\.v<N>\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
