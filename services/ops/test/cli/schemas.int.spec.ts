/** `tidemark schemas export` writes its files to a directory (file I/O: the int tier). */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runSchemas } from '../../src/cli/schemas';
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

test('export writes one JSON Schema file per envelope, command and event version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-schemas-'));
  try {
    const out = capture();
    await runSchemas(['export', '--out', dir, '--config', REPO_DEPLOYMENT_FILE], { write: out.write });
    // 5 envelopes; listings: 5 commands, 6 event versions; tickets: 5 commands, 6 event versions.
    assert.match(out.text(), /^wrote 27 JSON Schema file\(s\) to /);
    assert.ok(readdirSync(join(dir, 'tickets', 'events')).includes('TicketOpened.v1.schema.json'));
    assert.deepEqual(readdirSync(join(dir, 'listings', 'events')).sort(), [
      'DetailsUpdated.v1.schema.json',
      'ListingPublished.v1.schema.json',
      'ListingPublished.v2.schema.json',
      'ListingSold.v1.schema.json',
      'ListingWithdrawn.v1.schema.json',
      'PriceChanged.v1.schema.json',
    ]);
    const publish = JSON.parse(
      readFileSync(join(dir, 'listings', 'commands', 'PublishListing.schema.json'), 'utf8'),
    );
    assert.ok(publish.required.includes('currency'));
    assert.ok(readdirSync(join(dir, 'envelopes')).includes('EventEnvelope.schema.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
