/**
 * docs/guide.md followed step by step, as a team would, in a scratch workspace: the commands and requests are
 * taken from the guide itself, so a guide that stops working fails here. The workspace has a package.json with
 * this repository's workspace globs, its tsconfig.base.json and biome.json (which the generator formats with),
 * and a node_modules of links to this repository's packages; the generated packages are linked in as
 * `npm install` would.
 *
 * Checks: `tidemark new context orders` writes exactly the planned files and a deployment module hosting orders;
 * both packages build with the repository's strict tsc, their generated tests pass, Biome finds nothing to
 * change and the layering rules hold; `tidemark up` (free ports, broker and Postgres only) hosts it: the guide's
 * command is accepted (and the same again with its Idempotency-Key answers the same), a read with its
 * Consistency-Token returns the document, another id is 404 ORDERS_NOT_FOUND, and Ctrl-C stops it with exit
 * code 0. The guide's store check (the sink contract suite on the generated projection, in a real Postgres)
 * passes. Then `tidemark new projection` for every store builds, passes its tests and Biome; and the guide's
 * catalog step (replay order-detail v2, diff, cutover) leaves reads served by v2, with the new Postgres view
 * readable at the same token.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

const REPO = resolve(__dirname, '../../..');
const CLI = join(REPO, 'services/ops/bin/tidemark.js');
const GUIDE = readFileSync(join(REPO, 'docs/guide.md'), 'utf8');
/** The addresses the guide uses (`tidemark up`'s default ports) and its data dir. */
const GUIDE_GATEWAY = 'http://127.0.0.1:18080';
const GUIDE_QUERY = 'http://127.0.0.1:18081';
const GUIDE_ENDPOINTS = '.tidemark/endpoints.json';

// --- reading the guide ---

/** The shell commands of the guide's ```sh blocks, continuation lines joined, in order. */
function guideCommands(): string[] {
  const commands: string[] = [];
  for (const block of GUIDE.matchAll(/^\s*```sh\n([\s\S]*?)^\s*```/gm)) {
    let pending = '';
    for (const raw of (block[1] ?? '').split('\n')) {
      const line = raw.trim();
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1)} `;
        continue;
      }
      const command = `${pending}${line}`.trim();
      pending = '';
      if (command.length > 0) commands.push(command);
    }
  }
  return commands;
}

/** The words of a shell command: quotes removed, nothing expanded. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (const char of command) {
    if (quote !== null) {
      if (char === quote) quote = null;
      else word = `${word ?? ''}${char}`;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= '';
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = `${word ?? ''}${char}`;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** The arguments of the guide's `npx tidemark <command> ...` lines that start with `prefix`. */
function tidemarkArgs(prefix: string): string[][] {
  return guideCommands()
    .filter((command) => command.startsWith(`npx tidemark ${prefix}`))
    .map((command) => shellWords(command).slice(2));
}

interface CurlRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The guide's curl command that `pick` selects, as a request ($KEY, $TOKEN and addresses left as written). */
function guideCurl(pick: (request: CurlRequest) => boolean): CurlRequest {
  for (const command of guideCommands()) {
    const words = shellWords(command.replace(/^TOKEN=\$\(/, ''));
    if (words[0] !== 'curl') continue;
    const request: CurlRequest = { method: 'GET', url: '', headers: {} };
    for (let i = 1; i < words.length; i++) {
      const word = words[i] as string;
      if (word === '-X') request.method = words[++i] as string;
      else if (word === '-H') {
        const [name, ...value] = (words[++i] as string).split(':');
        request.headers[(name as string).trim()] = value.join(':').trim();
      } else if (word === '-d') request.body = words[++i] as string;
      else if (word.startsWith('http')) request.url = word;
      else if (word === '|') break;
    }
    if (pick(request)) return request;
  }
  throw new Error('the guide has no such curl command');
}

// --- the scratch workspace ---

const scratch = mkdtempSync(join(tmpdir(), 'tidemark-new-context-'));
const dataDir = join(scratch, 'data');
const at = (...path: string[]) => join(scratch, ...path);

function makeWorkspace(): void {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] };
  writeFileSync(
    at('package.json'),
    `${JSON.stringify({ name: 'scratch', private: true, workspaces: manifest.workspaces }, null, 2)}\n`,
  );
  copyFileSync(join(REPO, 'tsconfig.base.json'), at('tsconfig.base.json'));
  copyFileSync(join(REPO, 'biome.json'), at('biome.json'));
  const modules = join(REPO, 'node_modules');
  mkdirSync(at('node_modules'));
  for (const entry of readdirSync(modules)) {
    if (!entry.startsWith('@')) {
      symlinkSync(join(modules, entry), at('node_modules', entry));
      continue;
    }
    // Scoped folders are real folders here, so that the generated packages can be linked in beside the others.
    mkdirSync(at('node_modules', entry));
    for (const name of readdirSync(join(modules, entry))) {
      symlinkSync(join(modules, entry, name), at('node_modules', entry, name));
    }
  }
}

/** What `npm install` does for a new workspace package: node_modules/<name> links to its folder. */
function linkPackage(dir: string): void {
  const { name } = JSON.parse(readFileSync(at(dir, 'package.json'), 'utf8')) as { name: string };
  symlinkSync(at(dir), at('node_modules', ...name.split('/')));
}

interface Run {
  status: number | null;
  output: string;
}

/** The environment of the commands run: as a shell's, not as a test file's (node --test would skip files). */
function environment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TIDEMARK_LOG_LEVEL: 'warn' };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function run(command: string, args: readonly string[], cwd = scratch): Run {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: environment(), timeout: 120_000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

const tidemark = (args: readonly string[], cwd = scratch) => run(process.execPath, [CLI, ...args], cwd);
/** The repository's TypeScript, as the generated package.json's build script runs it. */
const tsc = (dir: string) => run(join(REPO, 'node_modules/.bin/tsc'), ['-p', at(dir)]);

function specFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? specFiles(join(dir, entry.name))
      : entry.name.endsWith('.spec.js')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Runs the compiled tests of a package with node's test runner; they must all pass. */
function passTests(dir: string): void {
  const files = specFiles(at(dir, 'dist', 'test'));
  assert.ok(files.length > 0, `${dir} has compiled tests`);
  const result = run(process.execPath, ['--test', ...files]);
  assert.equal(result.status, 0, result.output);
  assert.match(result.output, /^# fail 0$/m);
  assert.doesNotMatch(result.output, /^# pass 0$/m);
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? allFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

// --- tidemark up ---

interface Endpoints {
  gateway: string;
  query: string;
  apiKey: string;
}

interface Up {
  child: ChildProcess;
  endpoints: Endpoints;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The guide's `npx tidemark up ...`, on free ports with only the broker and Postgres (they are enough here). */
async function startUp(): Promise<Up> {
  const [guideArgs] = tidemarkArgs('up ');
  assert.ok(guideArgs, 'the guide runs tidemark up');
  const args = [
    ...guideArgs,
    '--data-dir',
    dataDir,
    '--components',
    'broker,postgres',
    '--metrics-port=-1',
    ...['broker', 'postgres', 'redis', 'memcached', 'search', 'gateway', 'query', 'admin'].map(
      (port) => `--${port}-port=0`,
    ),
  ];
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: scratch,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: environment(),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString()}`.slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const file = join(dataDir, 'endpoints.json');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (gone) assert.fail(`tidemark up exited while starting:\n${stderr}`);
    if (Date.now() > deadline) assert.fail(`tidemark up did not write the gateway and query to ${file}`);
    if (existsSync(file)) {
      const endpoints = JSON.parse(readFileSync(file, 'utf8')) as Partial<Endpoints>;
      if (endpoints.gateway && endpoints.query && endpoints.apiKey) {
        return { child, endpoints: endpoints as Endpoints, exited };
      }
    }
    await new Promise((wait) => setTimeout(wait, 250));
  }
}

/** Ctrl-C, as the guide says: everything stops and the exit code is 0. */
async function stopUp(up: Up): Promise<void> {
  up.child.kill('SIGINT');
  const { code, stdout, stderr } = await up.exited;
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Tidemark stack stopped\./);
}

interface Answer {
  status: number;
  headers: Headers;
  body: { [key: string]: unknown };
}

/**
 * A request of the guide, sent to this platform: its addresses, API key and token filled in. A 503 (a view
 * still catching up after a start, past the read's bounded wait) is retried after its Retry-After, as a client
 * would.
 */
async function send(request: CurlRequest, endpoints: Endpoints, token = ''): Promise<Answer> {
  const fill = (text: string) => text.replaceAll('$KEY', endpoints.apiKey).replaceAll('$TOKEN', token);
  const url = request.url.replace(GUIDE_GATEWAY, endpoints.gateway).replace(GUIDE_QUERY, endpoints.query);
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, {
      method: request.method,
      headers: Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, fill(value)]),
      ),
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const answer = {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as { [key: string]: unknown },
    };
    if (answer.status !== 503 || attempt === 10) return answer;
    await new Promise((wait) => setTimeout(wait, Number(response.headers.get('retry-after') ?? 1) * 1000));
  }
}

describe('docs/guide.md, step by step: a new context from nothing to a consistent read', () => {
  let up: Up | undefined;
  let token = '';

  before(makeWorkspace);
  after(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGINT');
      await Promise.race([up.exited, new Promise((wait) => setTimeout(wait, 20_000))]);
      if (up.child.exitCode === null) up.child.kill('SIGKILL');
    }
    if (!process.env.KEEP_SCRATCH) rmSync(scratch, { recursive: true, force: true });
  });

  test('tidemark new context orders writes both packages and a deployment module hosting them', () => {
    const [args] = tidemarkArgs('new context');
    assert.deepEqual(args, ['new', 'context', 'orders']);
    // Run from the repository, pointed at the scratch workspace.
    const result = tidemark([...args, '--dir', scratch], REPO);
    assert.equal(result.status, 0, result.output);
    assert.match(
      result.output,
      /Next steps:\n[\s\S]*npm install[\s\S]*tidemark up --config tidemark\.config\.js/,
    );
    const written = [...allFiles(at('services')), at('tidemark.config.js')].map((file) =>
      relative(scratch, file),
    );
    assert.deepEqual(written.sort(), [
      'services/contexts/orders/domain/package.json',
      'services/contexts/orders/domain/src/commands.ts',
      'services/contexts/orders/domain/src/context.ts',
      'services/contexts/orders/domain/src/decider.ts',
      'services/contexts/orders/domain/src/events.ts',
      'services/contexts/orders/domain/src/index.ts',
      'services/contexts/orders/domain/test/decider.unit.spec.ts',
      'services/contexts/orders/domain/tsconfig.json',
      'services/contexts/orders/projections/package.json',
      'services/contexts/orders/projections/src/index.ts',
      'services/contexts/orders/projections/src/order-detail.ts',
      'services/contexts/orders/projections/src/queries.ts',
      'services/contexts/orders/projections/test/projection.unit.spec.ts',
      'services/contexts/orders/projections/tsconfig.json',
      'tidemark.config.js',
    ]);
    assert.match(
      readFileSync(at('tidemark.config.js'), 'utf8'),
      /require\('@tidemark\/orders-projections'\)/,
    );
    // Generating it again is refused: the folders exist.
    const again = tidemark([...args, '--dir', scratch], REPO);
    assert.equal(again.status, 2, again.output);
    assert.match(again.output, /exists already/);
  });

  test('both packages build with the strict tsconfig, their tests pass, Biome and the layering rules agree', () => {
    linkPackage('services/contexts/orders/domain');
    linkPackage('services/contexts/orders/projections');
    for (const dir of ['services/contexts/orders/domain', 'services/contexts/orders/projections']) {
      const built = tsc(dir);
      assert.equal(built.status, 0, built.output);
    }
    passTests('services/contexts/orders/domain');
    passTests('services/contexts/orders/projections');
    const biome = run(process.execPath, [
      join(REPO, 'node_modules/@biomejs/biome/bin/biome'),
      'check',
      'services',
      'tidemark.config.js',
    ]);
    assert.equal(biome.status, 0, biome.output);
    const layers = run(process.execPath, [join(REPO, 'scripts/check-layers.mjs'), scratch]);
    assert.equal(layers.status, 0, layers.output);
  });

  test("the guide's store check: the sink contract suite runs the projection in a real Postgres", () => {
    const block = [...GUIDE.matchAll(/^\s*```ts\n([\s\S]*?)^\s*```/gm)]
      .map((match) => match[1] ?? '')
      .find((text) => text.includes('describeProjectionContract'));
    assert.ok(block, 'the guide shows the store check');
    const file = at('services/contexts/orders/projections/test/stores.int.spec.ts');
    writeFileSync(file, block);
    // The devDependencies the guide says to add.
    const manifestFile = at('services/contexts/orders/projections/package.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      devDependencies?: Record<string, string>;
    };
    manifest.devDependencies = {
      ...manifest.devDependencies,
      '@tidemark/ops': '0.1.0',
      '@tidemark/sink-contract': '0.1.0',
      '@tidemark/stack': '0.1.0',
    };
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    const built = tsc('services/contexts/orders/projections');
    assert.equal(built.status, 0, built.output);
    const compiled = at('services/contexts/orders/projections/dist/test/stores.int.spec.js');
    const result = run(process.execPath, ['--test', compiled]);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /^# pass 3$/m);
    assert.match(result.output, /^# fail 0$/m);
    // The later steps run the unit tests only.
    rmSync(file);
    rmSync(compiled);
  });

  test("tidemark up hosts it: the guide's command, then a read with its token", async () => {
    up = await startUp();
    const { endpoints } = up;
    const command = guideCurl((request) => request.method === 'POST');
    // The guide sends the example that `tidemark up` prints.
    const { ordersExample } = require(at('services/contexts/orders/projections')) as {
      ordersExample: { command: unknown };
    };
    assert.deepEqual(JSON.parse(command.body ?? ''), ordersExample.command);

    const accepted = await send(command, endpoints);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.status, 'accepted');
    assert.equal(typeof accepted.body.token, 'string');
    assert.equal(accepted.headers.get('consistency-token'), accepted.body.token);
    // The same request with the same Idempotency-Key: the first answer again (section 7 keeps its token).
    const again = await send(command, endpoints);
    assert.equal(again.status, 200);
    assert.equal(again.body.token, accepted.body.token);
    assert.equal(again.body.aggregateVersion, 1);
    token = again.body.token as string;

    const found = await send(
      guideCurl((request) => request.url.endsWith('/v1/orders/order-1')),
      endpoints,
      token,
    );
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.headers.get('x-tidemark-view'), 'order-detail.v1');
    assert.deepEqual(
      { ...(found.body.data as object), createdAt: undefined, updatedAt: undefined },
      {
        id: 'order-1',
        title: 'First order',
        status: 'open',
        closeReason: null,
        version: 1,
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    const missing = await send(
      guideCurl((request) => request.url.endsWith('/v1/orders/order-2')),
      endpoints,
      token,
    );
    assert.equal(missing.status, 404);
    assert.equal((missing.body.error as { code: string }).code, 'ORDERS_NOT_FOUND');

    await stopUp(up);
  });

  test('tidemark new projection, for every store: each builds, passes its test and Biome', () => {
    const commands = tidemarkArgs('new projection');
    assert.deepEqual(commands.map((args) => args[args.indexOf('--store') + 1]).sort(), [
      'elasticsearch',
      'memcached',
      'postgres',
      'redis',
    ]);
    for (const args of commands) {
      const result = tidemark(args);
      assert.equal(result.status, 0, result.output);
      assert.doesNotMatch(result.output, /By hand:/);
    }
    const built = tsc('services/contexts/orders/projections');
    assert.equal(built.status, 0, built.output);
    passTests('services/contexts/orders/projections');
    assert.equal(specFiles(at('services/contexts/orders/projections/dist/test')).length, 5);
    const biome = run(process.execPath, [
      join(REPO, 'node_modules/@biomejs/biome/bin/biome'),
      'check',
      'services/contexts/orders/projections',
    ]);
    assert.equal(biome.status, 0, biome.output);
  });

  test('the catalog step: replay order-detail v2, diff, cutover; reads then come from v2', async () => {
    const module = [...GUIDE.matchAll(/^\s*```js\n([\s\S]*?)^\s*```/gm)]
      .map((block) => (block[1] ?? '').replace(/^ {3}/gm, ''))
      .find((block) => block.includes('catalog:'));
    assert.ok(module, 'the guide shows the deployment module with a catalog');
    writeFileSync(at('tidemark.config.js'), module);

    up = await startUp();
    const { endpoints } = up;
    const endpointsFile = join(dataDir, 'endpoints.json');
    const steps = ['replay', 'diff', 'cutover'].map((name) => {
      const [args] = tidemarkArgs(`${name} `);
      assert.ok(args, `the guide runs tidemark ${name}`);
      return args.map((arg) => (arg === GUIDE_ENDPOINTS ? endpointsFile : arg));
    });
    for (const args of steps) {
      const result = tidemark(args);
      // diff: exit code 0 and "equal" (nothing was fixed here, so v1 and v2 agree).
      assert.equal(result.status, 0, `${args.join(' ')}\n${result.output}`);
    }

    // The query API follows the switch in the control table as soon as it hears of it: within moments.
    const read = guideCurl((request) => request.url.endsWith('/v1/orders/order-1'));
    const deadline = Date.now() + 15_000;
    let found = await send(read, endpoints, token);
    while (found.headers.get('x-tidemark-view') !== 'order-detail.v2' && Date.now() < deadline) {
      await new Promise((wait) => setTimeout(wait, 100));
      found = await send(read, endpoints, token);
    }
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.headers.get('x-tidemark-view'), 'order-detail.v2');
    assert.equal((found.body.data as { title: string }).title, 'First order');
    // The Postgres view added in section 8 folded the log from its start: it has order-1 at the same token.
    const activity = await send(
      guideCurl((request) => request.url.endsWith('/v1/orders/order-1/order-activity')),
      endpoints,
      token,
    );
    assert.equal(activity.status, 200, JSON.stringify(activity.body));
    assert.deepEqual(
      { ...(activity.body.data as object), lastEventAt: undefined },
      { id: 'order-1', events: 1, lastEventType: 'OrderCreated', version: 1, lastEventAt: undefined },
    );
    await stopUp(up);
  });
});
