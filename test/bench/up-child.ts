/** `tidemark up` as a child process for benchmarks, and a keep-alive HTTP call that never throws. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Agent } from 'node:http';
import { request } from 'node:http';
import { join, resolve } from 'node:path';

import { REPO_DEPLOYMENT_FILE } from '../support/deployment';

const CLI = resolve(__dirname, '../../../services/ops/bin/tidemark.js');

/** The parts of <data-dir>/endpoints.json the benchmarks use. */
export interface UpEndpoints {
  broker: string;
  postgres?: string;
  redis?: string;
  memcached?: string;
  search?: string;
  gateway: string;
  query?: string;
  admin?: string;
  apiKey: string;
}

export async function startUp(
  dataDir: string,
  partitions: number,
  projectorMode: string,
  extraArgs: string[] = [],
): Promise<{ child: ChildProcess; endpoints: UpEndpoints }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'up',
      '--config',
      REPO_DEPLOYMENT_FILE,
      '--data-dir',
      dataDir,
      '--broker-mode',
      'child',
      '--broker-port=0',
      '--postgres-port=0',
      '--redis-port=0',
      '--memcached-port=0',
      '--gateway-port=0',
      '--query-port=0',
      `--projector-mode=${projectorMode}`,
      '--metrics-port=-1',
      '--partitions',
      String(partitions),
      ...extraArgs,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TIDEMARK_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' },
    },
  );
  await new Promise<void>((ready, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Press Ctrl-C')) ready();
    });
    child.once('exit', (code) => fail(new Error(`tidemark up exited (${code})`)));
    setTimeout(() => fail(new Error('tidemark up was not ready within 180 s')), 180_000).unref();
  });
  const endpoints = JSON.parse(await readFile(join(dataDir, 'endpoints.json'), 'utf8')) as UpEndpoints;
  return { child, endpoints };
}

export function httpCall(
  agent: Agent,
  url: URL,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((done) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (error) => done({ status: 0, body: String(error) }));
    req.end(body);
  });
}
