/** Recorded client bytes for the broker's protocol tests: hex fixtures under test/protocol/fixtures. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads a hex fixture (whitespace and `#` comments ignored) from test/protocol/fixtures. */
export function hexFixture(name: string): Buffer {
  // Compiled tests run from dist/test/protocol; fixtures stay in the source tree.
  const path = join(__dirname, '..', '..', '..', 'test', 'protocol', 'fixtures', name);
  const text = readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(text, 'hex');
}
