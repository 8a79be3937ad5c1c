/** `tidemark schemas`: check passes on the shipped samples, fails on a broken upcaster (export: schemas.int.spec.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandRegistry, EventRegistry } from '@tidemark/schemas';
import { z } from 'zod';
import { runSchemas, type SchemaCliContext } from '../../src/cli/schemas';
import { UsageError } from '../../src/cli/usage-error';
import { REPO_DEPLOYMENT_FILE } from '../support/deployment';

function capture(): { write: (text: string) => void; text: () => string } {
  let text = '';
  return {
    write: (chunk) => {
      text += chunk;
    },
    text: () => text,
  };
}

/** A context whose v2 upcaster forgets the field v2 requires, so v1 samples cannot be read. */
function brokenContext(): SchemaCliContext {
  const events = new EventRegistry([
    {
      type: 'ThingCreated',
      versions: [
        { version: 1, schema: z.object({ name: z.string() }) },
        {
          version: 2,
          schema: z.object({ name: z.string(), size: z.number().int() }),
          upcast: (previous) => previous,
        },
      ],
    },
  ]);
  return {
    name: 'things',
    commands: new CommandRegistry({}),
    events,
    samples: () => [
      { type: 'ThingCreated', schemaVersion: 1, payload: { name: 'a' } },
      { type: 'ThingCreated', schemaVersion: 2, payload: { name: 'b', size: 1 } },
    ],
  };
}

test("check passes on the deployment module's contexts and prints a summary", async () => {
  const out = capture();
  await runSchemas(['check', '--config', REPO_DEPLOYMENT_FILE], { write: out.write });
  assert.match(
    out.text(),
    /^schemas compatible\n {2}listings: \d+ sample\(s\) read across 5 event type\(s\), 6 version\(s\)\n {2}tickets: \d+ sample\(s\) read across 5 event type\(s\), 6 version\(s\)/,
  );
});

test('check fails for a registry whose v2 cannot read v1 samples, listing each problem', async () => {
  await assert.rejects(
    runSchemas(['check'], { contexts: [brokenContext()], write: () => {} }),
    (error: Error) => {
      assert.ok(!(error instanceof UsageError), 'a failed check is exit code 1, not a usage error');
      assert.match(error.message, /schema check failed, 1 problem\(s\)/);
      assert.match(
        error.message,
        /- things: ThingCreated v1 sample #0: ThingCreated cannot be upcast to v2 \(size:/,
      );
      return true;
    },
  );
});

test('help explains each subcommand; mistakes are usage errors', async () => {
  const out = capture();
  await runSchemas(['--help'], { write: out.write });
  assert.match(out.text(), /check {2}/);
  assert.match(out.text(), /export --out <dir>/);
  for (const argv of [
    [],
    ['frobnicate'],
    ['export'],
    ['check', '--out', 'x'],
    ['check', '--context', 'nope'],
    ['--bogus'],
  ]) {
    await assert.rejects(runSchemas(argv, { write: () => {} }), UsageError, argv.join(' '));
  }
});

test('--context checks only the contexts named', async () => {
  const good = { ...brokenContext(), name: 'good', samples: () => [] };
  good.events = new EventRegistry([
    { type: 'ThingCreated', versions: [{ version: 1, schema: z.object({}) }] },
  ]);
  const contexts = [brokenContext(), good];
  const out = capture();
  await runSchemas(['check', '--context', 'good'], { contexts, write: out.write });
  assert.match(out.text(), /good: 0 sample/);
  assert.doesNotMatch(out.text(), /things/);
  await assert.rejects(runSchemas(['check'], { contexts, write: out.write }), /things: ThingCreated v1/);
});
