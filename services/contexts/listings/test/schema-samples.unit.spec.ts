/**
 * The shipped schema samples: every event version has some, and every one reads through the registry. Reading
 * the sample files is the one bit of file I/O in this package's tests; it is local and fast, so it stays a unit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSchemaCompatibility, exportJsonSchemas } from '@tidemark/schemas';
import { loadSchemaSamples } from '@tidemark/sdk';
import { LISTINGS_SCHEMA_SAMPLES_DIR, listingEvents, listingsContext } from '../src/index';

test('every event version, the latest included, has samples', () => {
  const samples = loadSchemaSamples(LISTINGS_SCHEMA_SAMPLES_DIR);
  for (const type of listingEvents.types()) {
    for (let version = 1; version <= listingEvents.latestVersion(type); version++) {
      assert.ok(
        samples.some((sample) => sample.type === type && sample.schemaVersion === version),
        `${type} v${version} has no samples`,
      );
    }
  }
});

test('the registry reads every sample', () => {
  const samples = loadSchemaSamples(LISTINGS_SCHEMA_SAMPLES_DIR);
  const report = checkSchemaCompatibility(listingEvents, samples);
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
  assert.equal(report.samplesRead, samples.length);
});

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

test('JSON Schemas export for the listings context, both ListingPublished versions included', () => {
  const files = exportJsonSchemas([listingsContext]);
  assert.ok(files['listings/events/ListingPublished.v1.schema.json']);
  assert.ok(files['listings/events/ListingPublished.v2.schema.json']);
  assert.ok(files['listings/commands/PublishListing.schema.json']);
  assert.equal(Object.keys(files).filter((name) => name.startsWith('listings/')).length, 5 + 6);
});
