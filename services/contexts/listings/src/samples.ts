/**
 * Schema samples: payloads recorded under each event version the context has shipped, kept as
 * schema-samples/<EventType>.v<N>.json (a JSON array of payloads). `tidemark schemas check` reads every one
 * through the registry. The only file reading in this package; the decider and schemas stay pure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaSample } from '@tidemark/schemas';

/** From dist/src/ back to the package root, where schema-samples/ lives (not compiled, not copied). */
export const LISTINGS_SCHEMA_SAMPLES_DIR = join(__dirname, '..', '..', 'schema-samples');

const SAMPLE_FILE = /^([A-Za-z][A-Za-z0-9]*)\.v([1-9][0-9]*)\.json$/;

/** Reads every <EventType>.v<N>.json in dir; a .json file with another name or not holding an array is an error. */
export function loadSchemaSamples(dir: string): SchemaSample[] {
  const samples: SchemaSample[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue;
    const match = SAMPLE_FILE.exec(file);
    if (!match) throw new Error(`${join(dir, file)}: sample files are named <EventType>.v<N>.json`);
    const payloads: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    if (!Array.isArray(payloads)) throw new Error(`${join(dir, file)}: expected a JSON array of payloads`);
    const [, type, version] = match as unknown as [string, string, string];
    for (const payload of payloads) samples.push({ type, schemaVersion: Number(version), payload });
  }
  return samples;
}
