/**
 * The shipped schema samples: every event version has some, and every one reads through the registry. Reading
 * the sample files (this package's own fixtures) is the one bit of file I/O here; it is local and fast, so it
 * stays a unit. loadSchemaSamples on files written for the test: schema-samples.int.spec.ts.
 */
import assert from 'node:assert/strict';
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

test('JSON Schemas export for the listings context, both ListingPublished versions included', () => {
  const files = exportJsonSchemas([listingsContext]);
  assert.ok(files['listings/events/ListingPublished.v1.schema.json']);
  assert.ok(files['listings/events/ListingPublished.v2.schema.json']);
  assert.ok(files['listings/commands/PublishListing.schema.json']);
  assert.equal(Object.keys(files).filter((name) => name.startsWith('listings/')).length, 5 + 6);
});
