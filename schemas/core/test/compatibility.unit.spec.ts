/** The schema compatibility check: old samples must read through the registry, old versions must have samples. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { checkSchemaCompatibility, EventRegistry } from '../src/index';

const V1 = z.object({ name: z.string() });
const V2 = z.object({ name: z.string(), size: z.number().int().positive() });

function registry(upcast: (previous: unknown) => unknown): EventRegistry {
  return new EventRegistry([
    {
      type: 'ThingCreated',
      versions: [
        { version: 1, schema: V1 },
        { version: 2, schema: V2, upcast },
      ],
    },
    { type: 'ThingDeleted', versions: [{ version: 1, schema: z.object({}) }] },
  ]);
}
const goodRegistry = registry((previous) => ({ ...(previous as object), size: 1 }));

const samples = [
  { type: 'ThingCreated', schemaVersion: 1, payload: { name: 'a' } },
  { type: 'ThingCreated', schemaVersion: 1, payload: { name: 'b' } },
  { type: 'ThingCreated', schemaVersion: 2, payload: { name: 'c', size: 3 } },
];

test('a registry that reads every sample passes', () => {
  assert.deepEqual(checkSchemaCompatibility(goodRegistry, samples), {
    ok: true,
    problems: [],
    samplesRead: 3,
  });
});

test('an upcaster whose output the new version refuses fails, naming each sample', () => {
  const broken = registry((previous) => previous);
  const report = checkSchemaCompatibility(broken, samples);
  assert.equal(report.ok, false);
  assert.equal(report.problems.length, 2);
  assert.match(
    report.problems[0] as string,
    /^ThingCreated v1 sample #0: ThingCreated cannot be upcast to v2 \(size:/,
  );
  assert.match(report.problems[1] as string, /^ThingCreated v1 sample #1:/);
});

test('an upcaster that throws is reported, not propagated', () => {
  const throwing = registry(() => {
    throw new Error('boom');
  });
  const report = checkSchemaCompatibility(throwing, samples);
  assert.equal(report.ok, false);
  assert.match(report.problems[0] as string, /upcasting threw: boom/);
});

test('an old version without samples fails: a new version must prove it reads the old ones', () => {
  const report = checkSchemaCompatibility(goodRegistry, [samples[2] as (typeof samples)[number]]);
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.length, 1);
  assert.match(report.problems[0] as string, /^ThingCreated v1: no samples/);
});

test('samples of unknown types or versions, or that do not match their own version, are problems', () => {
  const report = checkSchemaCompatibility(goodRegistry, [
    ...samples,
    { type: 'Nope', schemaVersion: 1, payload: {} },
    { type: 'ThingCreated', schemaVersion: 3, payload: {} },
    { type: 'ThingCreated', schemaVersion: 1, payload: { name: 7 } },
  ]);
  assert.equal(report.ok, false);
  assert.equal(report.samplesRead, 3);
  assert.deepEqual(
    report.problems.map((problem) => problem.split(':')[0]),
    ['Nope v1 sample #0', 'ThingCreated v3 sample #0', 'ThingCreated v1 sample #2'],
  );
});
