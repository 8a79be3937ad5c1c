/**
 * The schema-samples check with this context's registry, on copies of the samples in a temporary folder: the
 * shipped set passes, and the check fails when the v1 TicketOpened samples are gone (nothing proves v1 is still
 * readable) or when a sample holds text no view store can hold.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSchemaCompatibility } from '@tidemark/schemas';
import { loadSchemaSamples } from '@tidemark/sdk';
import { TICKETS_SCHEMA_SAMPLES_DIR, ticketEvents } from '../src/index';

function withSampleCopy(check: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-ticket-samples-'));
  try {
    cpSync(TICKETS_SCHEMA_SAMPLES_DIR, dir, { recursive: true });
    check(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a copy of the shipped samples passes the check', () => {
  withSampleCopy((dir) => {
    assert.deepEqual(checkSchemaCompatibility(ticketEvents, loadSchemaSamples(dir)).problems, []);
  });
});

test('without TicketOpened v1 samples, the check fails', () => {
  withSampleCopy((dir) => {
    rmSync(join(dir, 'TicketOpened.v1.json'));
    const report = checkSchemaCompatibility(ticketEvents, loadSchemaSamples(dir));
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((problem) => problem.split(':')[0]),
      ['TicketOpened v1'],
    );
  });
});

test('a v1 sample with a NUL in its subject is reported', () => {
  withSampleCopy((dir) => {
    const payload = { requesterId: 'c-1', subject: 'a\u0000b', body: 'x', priority: 'low' };
    writeFileSync(join(dir, 'TicketOpened.v1.json'), JSON.stringify([payload]));
    const report = checkSchemaCompatibility(ticketEvents, loadSchemaSamples(dir));
    assert.equal(report.ok, false);
    assert.equal(report.problems.length, 1);
    assert.match(report.problems[0] ?? '', /^TicketOpened v1 sample #0: .*subject: must not contain NUL/);
  });
});
