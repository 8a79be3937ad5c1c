/**
 * Schema compatibility: events are kept forever, so every payload ever written must stay readable. A context
 * records sample payloads for each event version it has shipped; the check reads each one through the registry
 * (validate at its version, upcast, validate at the latest) and insists that every version older than the latest
 * has samples, so a new version cannot ship without proving that it reads the old ones.
 */
import { TidemarkError } from './errors';
import type { EventRegistry } from './registry';

export interface SchemaSample {
  type: string;
  schemaVersion: number;
  payload: unknown;
}

export interface CompatibilityReport {
  ok: boolean;
  /** One line per problem, naming the event type, version and sample index. */
  problems: string[];
  /** How many samples were read successfully. */
  samplesRead: number;
}

export function checkSchemaCompatibility(
  registry: EventRegistry,
  samples: readonly SchemaSample[],
): CompatibilityReport {
  const problems: string[] = [];
  let samplesRead = 0;
  const sampled = new Set<string>();
  const indexByKey = new Map<string, number>();

  for (const sample of samples) {
    const key = `${sample.type} v${sample.schemaVersion}`;
    const index = indexByKey.get(key) ?? 0;
    indexByKey.set(key, index + 1);
    const label = `${key} sample #${index}`;
    if (!registry.has(sample.type)) {
      problems.push(`${label}: event type '${sample.type}' is not in the registry`);
      continue;
    }
    const latest = registry.latestVersion(sample.type);
    if (
      !Number.isInteger(sample.schemaVersion) ||
      sample.schemaVersion < 1 ||
      sample.schemaVersion > latest
    ) {
      problems.push(`${label}: the registry knows versions 1..${latest} only`);
      continue;
    }
    sampled.add(key);
    try {
      registry.read(sample.type, sample.schemaVersion, sample.payload);
      samplesRead++;
    } catch (error) {
      problems.push(`${label}: ${describe(error)}`);
    }
  }

  for (const type of registry.types()) {
    const latest = registry.latestVersion(type);
    for (let version = 1; version < latest; version++) {
      if (!sampled.has(`${type} v${version}`)) {
        problems.push(
          `${type} v${version}: no samples; every version older than the latest (v${latest}) needs samples to prove it is still readable`,
        );
      }
    }
  }

  return { ok: problems.length === 0, problems, samplesRead };
}

function describe(error: unknown): string {
  if (error instanceof TidemarkError) {
    const issues = error.details?.issues;
    const listed = Array.isArray(issues)
      ? issues.map((issue: { path: string; message: string }) => `${issue.path}: ${issue.message}`).join('; ')
      : '';
    return listed ? `${error.message} (${listed})` : error.message;
  }
  // An upcaster that throws is as broken as one that produces an invalid payload.
  return `upcasting threw: ${error instanceof Error ? error.message : String(error)}`;
}
