/**
 * The shipped schema samples: every event version has some, and the registry reads every one. Reading the sample
 * files is the one bit of file I/O here; it only reads files the package ships, so it stays a unit test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSchemaCompatibility, exportJsonSchemas } from '@tidemark/schemas';
import { loadSchemaSamples } from '@tidemark/sdk';
import { STORABLE_TEXT, TICKETS_SCHEMA_SAMPLES_DIR, ticketEvents, ticketsContext } from '../src/index';

test('every event version, the latest included, has samples', () => {
  const samples = loadSchemaSamples(TICKETS_SCHEMA_SAMPLES_DIR);
  for (const type of ticketEvents.types()) {
    for (let version = 1; version <= ticketEvents.latestVersion(type); version++) {
      assert.ok(
        samples.some((sample) => sample.type === type && sample.schemaVersion === version),
        `${type} v${version} has no samples`,
      );
    }
  }
});

test('the registry reads every sample', () => {
  const samples = loadSchemaSamples(TICKETS_SCHEMA_SAMPLES_DIR);
  const report = checkSchemaCompatibility(ticketEvents, samples);
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
  assert.equal(report.samplesRead, samples.length);
});

test('JSON Schemas export for the tickets context, both TicketOpened versions, with the storable-text pattern', () => {
  const files = exportJsonSchemas([ticketsContext]);
  assert.ok(files['tickets/events/TicketOpened.v1.schema.json']);
  assert.ok(files['tickets/events/TicketOpened.v2.schema.json']);
  assert.equal(Object.keys(files).filter((name) => name.startsWith('tickets/')).length, 5 + 6);
  // Clients in other languages see the NUL and surrogate rule too (a pattern, not an opaque refine).
  const rendered = JSON.stringify(files['tickets/commands/OpenTicket.schema.json']);
  assert.ok(rendered.includes(JSON.stringify(STORABLE_TEXT.source)), 'the pattern is in the exported schema');
});
