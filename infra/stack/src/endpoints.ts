import fs from 'node:fs/promises';
import path from 'node:path';

/** Keys of <data-dir>/endpoints.json, in the order they are written (DESIGN.md "Running it"). */
export const ENDPOINT_KEYS = [
  'gateway',
  'query',
  'admin',
  'broker',
  'search',
  'postgres',
  'redis',
  'memcached',
  'metrics',
  'apiKey',
  // The deployment module and the catalog module the platform runs with: operator commands load the same.
  'config',
  'catalog',
] as const;

export type EndpointKey = (typeof ENDPOINT_KEYS)[number];

/** URLs or host:port of what runs, plus a development API key; a part not running is left out. */
export type EndpointsFile = Partial<Record<EndpointKey, string>>;

export const ENDPOINTS_FILE_NAME = 'endpoints.json';

export function endpointsFilePath(dataDir: string): string {
  return path.join(path.resolve(dataDir), ENDPOINTS_FILE_NAME);
}

/**
 * Pure: keeps only the known keys with a non-empty string value, in canonical order.
 * Unknown keys and null/undefined/empty values are dropped ("a part not running yet is left out").
 */
export function shapeEndpoints(parts: Partial<Record<string, string | null | undefined>>): EndpointsFile {
  const shaped: EndpointsFile = {};
  for (const key of ENDPOINT_KEYS) {
    const value = parts[key];
    if (typeof value === 'string' && value.length > 0) shaped[key] = value;
  }
  return shaped;
}

/** Pure: `current` with `patch` applied (a null value removes the part), shaped. */
export function mergeEndpoints(
  current: EndpointsFile,
  patch: Partial<Record<EndpointKey, string | null | undefined>>,
): EndpointsFile {
  const merged: Partial<Record<string, string | null | undefined>> = { ...current };
  for (const key of ENDPOINT_KEYS) {
    if (key in patch) merged[key] = patch[key];
  }
  return shapeEndpoints(merged);
}

/** Writes endpoints.json atomically (temp file + rename), mode 0600 (it holds credentials). Returns its path. */
export async function writeEndpointsFile(dataDir: string, endpoints: EndpointsFile): Promise<string> {
  const file = endpointsFilePath(dataDir);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(shapeEndpoints(endpoints), null, 2)}\n`, { mode: 0o600 });
  await fs.rename(tmp, file);
  return file;
}

export async function readEndpointsFile(dataDir: string): Promise<EndpointsFile | undefined> {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(endpointsFilePath(dataDir), 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    return shapeEndpoints(parsed as Record<string, string>);
  } catch {
    return undefined;
  }
}

/**
 * For services that come up after the stack (gateway, query, admin, search, apiKey): merge their part into
 * endpoints.json. Read-modify-write without a lock: call it from one process at a time.
 */
export async function updateEndpointsFile(
  dataDir: string,
  patch: Partial<Record<EndpointKey, string | null | undefined>>,
): Promise<EndpointsFile> {
  const merged = mergeEndpoints((await readEndpointsFile(dataDir)) ?? {}, patch);
  await writeEndpointsFile(dataDir, merged);
  return merged;
}
