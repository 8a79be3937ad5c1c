/**
 * Schema samples: payloads recorded under each event version a context has shipped, kept in its folder as
 * <EventType>.v<N>.json (a JSON array of payloads; ContextDefinition.schemaSamples). `tidemark schemas check`
 * reads every one through the registry: a new schema version that cannot read an old sample fails it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaSample } from '@tidemark/schemas';

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
