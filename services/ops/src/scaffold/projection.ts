/**
 * What `tidemark new projection` writes: a projection of one store in a context's projections package, its
 * Given/Then test, and its place in the package's projection set and queries. It works from the built packages
 * (the context's event types, the example command's events for the test, the first Postgres view for a
 * memcached fallback), so what it generates compiles against the context as it is now, whatever its events.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  ContextDefinition,
  ContextExample,
  DomainEvent,
  ProjectionDefinition,
  QuerySet,
  StoreKind,
} from '@tidemark/sdk';
import { routeShape } from '@tidemark/sdk';
import { ProjectionSpecification } from '@tidemark/sdk/testing';
import { UsageError } from '../cli/usage-error';
import type { PlannedFile } from './context';
import {
  addExportAll,
  addImport,
  addNamedImport,
  insertAboveMarker,
  PROJECTION_MARKER,
  QUERY_MARKER,
} from './edits';
import { camelCase, constantCase, type ProjectionNames } from './names';
import { renderTemplate } from './templates';
import { domainDir, projectionsDir } from './workspace';

type Exports = Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

function isContext(value: unknown, name: string): value is ContextDefinition {
  return (
    isObject(value) &&
    value.name === name &&
    typeof value.aggregateType === 'string' &&
    isObject(value.events) &&
    isObject(value.commands) &&
    isObject(value.decider) &&
    typeof (value.decider as { decide?: unknown }).decide === 'function'
  );
}

function isProjection(value: unknown): value is ProjectionDefinition {
  return (
    isObject(value) &&
    typeof value.name === 'string' &&
    typeof value.context === 'string' &&
    typeof value.store === 'string' &&
    typeof value.apply === 'function'
  );
}

const isQuerySet = (value: unknown): value is QuerySet =>
  isObject(value) && typeof value.context === 'string' && Array.isArray(value.list);

const isExample = (value: unknown): value is ContextExample =>
  isObject(value) && isObject(value.command) && Array.isArray(value.reads);

/** A context and its projections package as built (dist), and what the generator needs from them. */
export interface BuiltContext {
  name: string;
  /** The context package's name, e.g. @tidemark/orders. */
  packageName: string;
  /** The name its context definition is exported under, e.g. ordersContext. */
  contextExport: string;
  context: ContextDefinition;
  /** The projections package's set (the first exported array of projections), in order. */
  projectionSet: readonly ProjectionDefinition[];
  /** Every projection the package exports, by export name. */
  projections: ReadonlyMap<string, ProjectionDefinition>;
  queries: readonly QuerySet[];
  example: ContextExample | undefined;
}

function load(dir: string, what: string): Exports {
  try {
    return require(dir) as Exports;
  } catch (error) {
    throw new Error(
      `cannot load ${what} (${dir}): ${(error as Error).message.split('\n')[0]}. Build it first: npx nx run-many -t build`,
    );
  }
}

/** Loads the built context package and projections package of context `name` under `root`. */
export function loadBuiltContext(root: string, name: string): BuiltContext {
  const contextDir = path.join(root, domainDir(name));
  const readDir = path.join(root, projectionsDir(name));
  for (const dir of [contextDir, readDir]) {
    if (!existsSync(path.join(dir, 'package.json'))) {
      throw new UsageError(
        `${dir} is not a package: tidemark new projection adds to a context made by tidemark new context`,
      );
    }
  }
  const manifest = JSON.parse(readFileSync(path.join(contextDir, 'package.json'), 'utf8')) as {
    name?: string;
  };
  const contextModule = load(contextDir, `the ${name} context package`);
  const contextEntry = Object.entries(contextModule).find(([, value]) => isContext(value, name));
  if (!contextEntry) throw new Error(`${contextDir} exports no context definition named '${name}'`);
  const [contextExport, context] = contextEntry as [string, ContextDefinition];
  const exports = load(readDir, `the ${name} projections package`);
  const projections = new Map<string, ProjectionDefinition>();
  for (const [key, value] of Object.entries(exports)) if (isProjection(value)) projections.set(key, value);
  const set = Object.values(exports).find(
    (value): value is ProjectionDefinition[] =>
      Array.isArray(value) && value.length > 0 && value.every(isProjection),
  );
  return {
    name,
    packageName: manifest.name ?? name,
    contextExport,
    context,
    projectionSet: set ?? [...projections.values()],
    projections,
    queries: Object.values(exports).filter(isQuerySet),
    example: Object.values(exports).find(isExample),
  };
}

/** The events the context's example command makes its decider emit from the start (none without an example). */
export function exampleEvents(built: BuiltContext): DomainEvent[] {
  const { example, context } = built;
  if (!example) return [];
  try {
    const { decider } = context;
    const command = {
      type: example.command.type,
      payload: context.commands.validate(example.command.type, example.command.payload),
      context: {
        commandId: 'tidemark-new',
        aggregateId: example.command.aggregateId,
        receivedAt: '2025-01-01T00:00:00.000Z',
      },
    };
    return decider.decide(command, decider.initialState());
  } catch {
    return [];
  }
}

/** The first Postgres view of the package, with the name it is exported under and the file declaring it. */
interface Fallback {
  projection: ProjectionDefinition;
  exportName: string;
  /** The module path of the file under src/, without extension, e.g. order-detail. */
  module: string;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [file] : [];
  });
}

export function findFallback(built: BuiltContext, projectionsDir: string): Fallback | undefined {
  const projection = built.projectionSet.find((candidate) => candidate.store === 'postgres');
  if (!projection) return undefined;
  const names = [...built.projections].filter(([, value]) => value === projection).map(([key]) => key);
  const exportName = names.find((key) => key.endsWith('Projection')) ?? names[0];
  if (exportName === undefined) return undefined;
  const src = path.join(projectionsDir, 'src');
  const declaration = new RegExp(`^export\\s+const\\s+${exportName}\\b`, 'm');
  const file = sourceFiles(src).find((candidate) => declaration.test(readFileSync(candidate, 'utf8')));
  if (!file) return undefined;
  const module = path.relative(src, file).replace(/\.ts$/, '').split(path.sep).join('/');
  return { projection, exportName, module };
}

export interface ProjectionPlan {
  files: PlannedFile[];
  /** The query route, e.g. GET /v1/order-daily/:day. */
  route: string;
  /** The package's index.ts and queries.ts with the projection added (those found with their markers). */
  edits: PlannedFile[];
  /** What to add by hand where a marker was missing. */
  manual: string[];
  /** Notes for the user (e.g. why memcached has no fallback). */
  notes: string[];
}

const STORE_TITLE: Record<StoreKind, string> = {
  postgres: 'Postgres',
  redis: 'Redis',
  memcached: 'memcached',
  elasticsearch: 'Elasticsearch',
};

/** `value` as TypeScript source (JSON is; the workspace's formatter turns its quotes into the house style). */
const literal = (value: unknown) => JSON.stringify(value);

/** The generated templates: one per kind of view (memcached: a cache of a Postgres view, or its own fold). */
type Kind = 'activity' | 'daily' | 'cache' | 'search';

/** Refuses a projection whose files, name, query name or route the package has already. */
function checkFree(root: string, built: BuiltContext, names: ProjectionNames, route: string): void {
  const dir = projectionsDir(built.name);
  const { projection, camel } = names;
  for (const file of [`src/${projection}.ts`, `test/${projection}.unit.spec.ts`]) {
    if (existsSync(path.join(root, dir, file))) throw new UsageError(`${dir}/${file} exists already`);
  }
  if ([...built.projections.values(), ...built.projectionSet].some((p) => p.name === projection)) {
    throw new UsageError(`${dir} has a projection named ${projection} already`);
  }
  if (projection === built.name) {
    throw new UsageError(
      `name the projection differently from its context (its route is /v1/${projection}/...)`,
    );
  }
  for (const set of built.queries) {
    if (Object.hasOwn(set.queries, camel)) {
      throw new UsageError(`${dir} has a query named ${camel} already: choose another projection name`);
    }
    const clash = set.list.find((query) => routeShape(query.path) === routeShape(route));
    if (clash) throw new UsageError(`the route ${route} collides with ${clash.path} of query ${clash.name}`);
  }
}

/**
 * The test's events and expected documents, as source: `historyOf(id)` gives the example's events to another
 * aggregate; the generic views' documents follow from the events alone (count, last type, version).
 */
function testValues(kind: Kind, events: readonly DomainEvent[], ids: readonly [string, string]) {
  const history = events
    .map(
      (event, index) =>
        `{ type: ${literal(event.type)}, aggregateId, ${kind === 'daily' ? 'partition, ' : ''}occurredAt: at(${index + 1}), payload: ${literal(event.payload)} }`,
    )
    .join(', ');
  const last = events.at(-1);
  const activity = (id: string) =>
    last === undefined
      ? 'null'
      : `{ id: ${literal(id)}, events: ${events.length}, lastEventType: ${literal(last.type)}, lastEventAt: at(${events.length}), version: ${events.length} }`;
  // Both aggregates' events fall on 2025-01-01 (the test's clock), on partitions 0 and 1.
  const byType: Record<string, number> = {};
  for (const event of events) byType[event.type] = (byType[event.type] ?? 0) + 2;
  return {
    history,
    'id-1': ids[0],
    'id-2': ids[1],
    'expected-1': activity(ids[0]),
    'expected-2': activity(ids[1]),
    'expected-day':
      events.length === 0
        ? 'null'
        : `{ day: '2025-01-01', events: ${events.length * 2}, byType: ${literal(byType)} }`,
  };
}

/** Whether the fallback view holds a document of `id` after the example's events (the test then says so). */
function foldsToDocument(
  built: BuiltContext,
  fallback: Fallback,
  events: readonly DomainEvent[],
  id: string,
) {
  try {
    const given = events.map((event) => ({ ...event, aggregateId: id }));
    return ProjectionSpecification.for(built.context, fallback.projection).given(given).document(id) !== null;
  } catch {
    return false;
  }
}

/** The package's index.ts and queries.ts with the projection added at their markers, or what to add by hand. */
function packageEdits(
  root: string,
  dir: string,
  names: ProjectionNames,
  query: string,
  sdkImport: string,
  fallback: Fallback | undefined,
): { edits: PlannedFile[]; manual: string[] } {
  const { projection, camel } = names;
  const read = (file: string) =>
    existsSync(path.join(root, file)) ? readFileSync(path.join(root, file), 'utf8') : '';
  const edits: PlannedFile[] = [];
  const manual: string[] = [];
  const importLine = `import { ${camel}Projection } from './${projection}';`;
  const exportLine = `export * from './${projection}';`;

  const indexFile = `${dir}/src/index.ts`;
  const index = read(indexFile);
  const withEntry = insertAboveMarker(index, PROJECTION_MARKER, `${camel}Projection,`);
  if (withEntry === null) {
    manual.push(`add ${camel}Projection (from ./${projection}) to the projection set the package exports`);
    if (index !== '') edits.push({ path: indexFile, content: addExportAll(index, exportLine) });
  } else {
    edits.push({ path: indexFile, content: addExportAll(addImport(withEntry, importLine), exportLine) });
  }

  const queriesFile = `${dir}/src/queries.ts`;
  const withQuery = insertAboveMarker(read(queriesFile), QUERY_MARKER, query);
  if (withQuery === null) {
    manual.push(
      `add this query to the package's defineQueries:\n${query
        .replace(/\n+$/, '')
        .split('\n')
        .map((line) => `      ${line}`)
        .join('\n')}`,
    );
  } else {
    let source = addNamedImport(addImport(withQuery, importLine), sdkImport, '@tidemark/sdk');
    if (fallback) source = addNamedImport(source, fallback.exportName, `./${fallback.module}`);
    edits.push({ path: queriesFile, content: source });
  }
  return { edits, manual };
}

/** Everything `tidemark new projection` writes for projection `names` of `built` with `store`. */
export function planProjection(
  root: string,
  built: BuiltContext,
  names: ProjectionNames,
  store: StoreKind,
): ProjectionPlan {
  const dir = projectionsDir(built.name);
  const { projection } = names;
  const notes: string[] = [];
  const fallback = store === 'memcached' ? findFallback(built, path.join(root, dir)) : undefined;
  if (store === 'memcached' && !fallback) {
    notes.push(`${dir} has no Postgres view to fall back to, so ${projection} folds its own documents`);
  }
  const kind: Kind =
    store === 'redis' ? 'daily' : store === 'elasticsearch' ? 'search' : fallback ? 'cache' : 'activity';
  const route = {
    daily: `/v1/${projection}/:day`,
    search: `/v1/${projection}`,
    cache: `/v1/${built.name}/:id/${projection}`,
    activity: `/v1/${built.name}/:id/${projection}`,
  }[kind];
  checkFree(root, built, names, route);

  // The aggregate type as a name: ids of the test's aggregates, prose, the name of a search hit.
  const aggregate =
    built.context.aggregateType
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'aggregate';
  const aggWords = aggregate.split('-').join(' ');
  const ids: [string, string] = [`${aggregate}-1`, `${aggregate}-2`];
  const events = exampleEvents(built);
  if (events.length === 0) {
    notes.push(`no example command to take test events from: add events of ${built.name} to the test`);
  }
  const hit = camelCase(aggregate);
  const values: Record<string, string> = {
    ...names,
    ...testValues(kind, events, ids),
    store,
    Store: STORE_TITLE[store],
    'agg words': aggWords,
    package: built.packageName,
    'context-export': built.contextExport,
    'event-types': built.context.events
      .types()
      .map((type) => literal(type))
      .join(', '),
    path: literal(route),
    'not-found': literal(
      kind === 'daily' ? `${names.CONSTANT}_NOT_FOUND` : `${constantCase(built.name)}_NOT_FOUND`,
    ),
    hit: literal(/^[a-zA-Z][a-zA-Z0-9_]{0,39}$/.test(hit) ? hit : 'document'),
    summary: literal(
      {
        daily: `Events per day across every ${aggWords}, by type (Redis; the partitions' sub-documents merged)`,
        search: `Search the ${aggWords} documents of ${projection}: filters, facets, sorts, paging (Elasticsearch)`,
        cache: `The ${fallback?.projection.name ?? ''} document of one ${aggWords} from memcached (a miss reads Postgres)`,
        activity: `The ${projection} document of one ${aggWords} (${STORE_TITLE[store]})`,
      }[kind],
    ),
  };
  if (fallback) {
    Object.assign(values, {
      'fallback-export': fallback.exportName,
      'fallback-name': fallback.projection.name,
      'fallback-module': `./${fallback.module}`,
      'fallback-test-module': `../src/${fallback.module}`,
      'fallback-event-types': fallback.projection.eventTypes.map((type) => literal(type)).join(', '),
      'not-null-check': foldsToDocument(built, fallback, events, ids[0])
        ? `    assert.notEqual(cached.document(${literal(ids[0])}), null);\n`
        : '',
    });
  }

  const files: PlannedFile[] = [
    { path: `${dir}/src/${projection}.ts`, content: renderTemplate(`projection/${kind}.ts`, values) },
    {
      path: `${dir}/test/${projection}.unit.spec.ts`,
      // The search view's document is the activity view's: so is its test.
      content: renderTemplate(`projection/${kind === 'search' ? 'activity' : kind}.spec.ts`, values),
    },
  ];
  const query = renderTemplate(
    `projection/${kind === 'search' || kind === 'cache' ? kind : 'document'}.query`,
    values,
  );
  const sdkImport = kind === 'search' ? 'searchQuery' : 'documentQuery';
  return {
    files,
    route: `GET ${route}`,
    ...packageEdits(root, dir, names, query, sdkImport, fallback),
    notes,
  };
}
