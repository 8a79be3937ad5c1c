/** JSON Schema export: envelopes, every command and every event version, and that the schemas say what zod says. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { CommandRegistry, EventRegistry, exportJsonSchemas } from '../src/index';

const events = new EventRegistry([
  {
    type: 'ThingCreated',
    versions: [
      { version: 1, schema: z.object({ name: z.string() }) },
      {
        version: 2,
        schema: z.object({ name: z.string(), size: z.number().int().positive() }),
        upcast: (previous) => ({ ...(previous as object), size: 1 }),
      },
    ],
  },
  { type: 'ThingDeleted', versions: [{ version: 1, schema: z.object({ reason: z.string().optional() }) }] },
]);
const commands = new CommandRegistry({
  CreateThing: z.strictObject({ name: z.string().min(1), size: z.number().int().positive() }),
  DeleteThing: z.strictObject({ reason: z.string().optional() }),
});

test('one file per envelope, command and event version', () => {
  const files = exportJsonSchemas([{ name: 'things', commands, events }]);
  assert.deepEqual(Object.keys(files).sort(), [
    'envelopes/AppendPayload.schema.json',
    'envelopes/CommandEnvelope.schema.json',
    'envelopes/CommandOutcome.schema.json',
    'envelopes/CommandRequest.schema.json',
    'envelopes/EventEnvelope.schema.json',
    'things/commands/CreateThing.schema.json',
    'things/commands/DeleteThing.schema.json',
    'things/events/ThingCreated.v1.schema.json',
    'things/events/ThingCreated.v2.schema.json',
    'things/events/ThingDeleted.v1.schema.json',
  ]);
});

test('schemas carry the zod constraints and a title, and are plain JSON', () => {
  const files = exportJsonSchemas([{ name: 'things', commands, events }]);
  const create = files['things/commands/CreateThing.schema.json'] as Record<string, unknown>;
  assert.equal(create.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(create.title, 'things command CreateThing');
  assert.equal(create.type, 'object');
  assert.equal(create.additionalProperties, false);
  assert.deepEqual(create.required, ['name', 'size']);
  assert.deepEqual((create.properties as Record<string, unknown>).size, {
    type: 'integer',
    exclusiveMinimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
  });
  const v2 = files['things/events/ThingCreated.v2.schema.json'] as Record<string, unknown>;
  assert.ok('size' in (v2.properties as object));
  const v1 = files['things/events/ThingCreated.v1.schema.json'] as Record<string, unknown>;
  assert.ok(!('size' in (v1.properties as object)));
  const envelope = files['envelopes/EventEnvelope.schema.json'] as Record<string, unknown>;
  assert.ok((envelope.required as string[]).includes('schemaVersion'));
  for (const schema of Object.values(files)) assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
});

test('no contexts still gives the envelopes', () => {
  assert.equal(Object.keys(exportJsonSchemas([])).length, 5);
});
