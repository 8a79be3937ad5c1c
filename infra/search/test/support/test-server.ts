import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, errors } from '@elastic/elasticsearch';
import pino from 'pino';
import type { SearchServer, SearchServerOptions } from '../../src';
import { startSearchServer } from '../../src';

export function tempDir(prefix = 'tidemark-search-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function quietLogger() {
  return pino({ level: process.env.TIDEMARK_LOG_LEVEL ?? 'warn' }, pino.destination({ fd: 2, sync: false }));
}

export interface TestServer {
  server: SearchServer;
  client: Client;
  dataDir: string;
  /** Closes the server and the client (keeps the data dir). */
  stop(): Promise<void>;
  /** Closes everything and removes the data dir. */
  dispose(): Promise<void>;
}

/** A server on port 0 with its own data dir, and an official client pointed at it. */
export async function startTestServer(
  options: Partial<SearchServerOptions> & { dataDir?: string } = {},
): Promise<TestServer> {
  const dir = options.dataDir === undefined ? tempDir() : null;
  const dataDir = options.dataDir ?? (dir as { path: string }).path;
  const server = await startSearchServer({ port: 0, logger: quietLogger(), ...options, dataDir });
  const client = new Client({ node: server.url });
  const stop = async () => {
    await client.close();
    await server.close();
  };
  return {
    server,
    client,
    dataDir,
    stop,
    async dispose() {
      await stop();
      dir?.remove();
    },
  };
}

/** Plain HTTP, the way curl would do it. */
export async function http(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${url}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: () => JSON.parse(text) as unknown,
  };
}

const CLI = resolve(__dirname, '../../../../../services/ops/bin/tidemark.js');

export interface ChildServer {
  process: ChildProcess;
  url: string;
  stdout: () => string;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `tidemark search-server` as a child process (so a test can SIGKILL it) and waits for its ready line. */
export async function startChildServer(dataDir: string, extraArgs: string[] = []): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [CLI, 'search-server', '--port', '0', '--data-dir', dataDir, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDEMARK_LOG_LEVEL: 'warn' } },
  );
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  const url = await new Promise<string>((resolveReady, rejectReady) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /search-server ready (\S+)/.exec(stdout);
      if (match?.[1]) resolveReady(match[1]);
    });
    void exited.then(({ code }) => rejectReady(new Error(`search-server exited early (${code}): ${stderr}`)));
  });
  return {
    process: child,
    url,
    stdout: () => stdout,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs `call`, expecting an Elasticsearch error response with this status and error type. */
export async function expectEsError(
  call: () => Promise<unknown>,
  status: number,
  type: string,
): Promise<errors.ResponseError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof errors.ResponseError, `expected ResponseError, got ${String(error)}`);
    assert.equal(error.meta.statusCode, status, JSON.stringify(error.body));
    assert.equal((error.body as { error: { type: string } }).error.type, type, JSON.stringify(error.body));
    return error;
  }
  assert.fail(`expected ${status} ${type}`);
}
