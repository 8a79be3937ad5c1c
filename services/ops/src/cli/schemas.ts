import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CommandRegistry,
  checkSchemaCompatibility,
  type EventRegistry,
  exportJsonSchemas,
  type SchemaSample,
} from '@tidemark/schemas';
import { loadSchemaSamples } from '@tidemark/sdk';
import { deploymentOf } from '../config/deployment-settings';
import { parseOrUsage, UsageError } from './usage-error';

const HELP = `tidemark schemas: check and export the event and command schemas of the deployment module's contexts

Usage: tidemark schemas <subcommand> [options]

Subcommands:
  check                  Prove that every event payload ever written is still readable. Reads each context's
                         recorded samples (its schemaSamples folder, <EventType>.v<N>.json) through its event
                         registry: validated at the sample's version, upcast to the latest and validated again.
                         Every version older than the latest must have samples, so a new version cannot ship
                         without proving it reads the old ones. Exit code 0 with a summary when all is well,
                         1 with every problem listed when not.
  export --out <dir>     Write a JSON Schema (draft 2020-12) for the envelopes, every command payload and every
                         event payload version: <dir>/envelopes/<Name>.schema.json,
                         <dir>/<context>/commands/<Type>.schema.json, <dir>/<context>/events/<Type>.v<N>.schema.json.
                         For clients in other languages and for review; the zod schemas stay the source of truth.

Options:
  --config <file>        The deployment module (env TIDEMARK_CONFIG; default ./tidemark.config.js)
  --context <name>       Only this context (repeatable; default: all)
  -h, --help             Show this text
`;

/** A context as far as its schemas go: registries plus where its samples come from. */
export interface SchemaCliContext {
  name: string;
  commands: CommandRegistry;
  events: EventRegistry;
  samples(): SchemaSample[];
}

export interface SchemasCliOptions {
  /** The contexts to work on; default: every context of the deployment module. */
  contexts?: SchemaCliContext[];
  /** Where the summary goes; default: stdout. */
  write?: (text: string) => void;
}

/**
 * `tidemark schemas check|export`. A failed check rejects with every problem in the message, which main turns
 * into exit code 1; usage mistakes are UsageErrors (exit code 2).
 */
export async function runSchemas(argv: string[], options: SchemasCliOptions = {}): Promise<void> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const { values, positionals } = parseOrUsage(parse, argv, HELP);
  if (values.help) {
    write(HELP);
    return;
  }
  const [subcommand, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'\n\n${HELP}`);

  const all =
    options.contexts ??
    (await deploymentOf({ config: values.config ?? process.env.TIDEMARK_CONFIG }))
      .contexts()
      .map((context) => ({
        name: context.name,
        commands: context.commands,
        events: context.events,
        samples: () => (context.schemaSamples ? loadSchemaSamples(context.schemaSamples) : []),
      }));
  const wanted = values.context ?? [];
  const unknown = wanted.filter((name) => !all.some((context) => context.name === name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown context '${unknown[0]}' (known: ${all.map((c) => c.name).join(', ')})`);
  }
  const contexts = wanted.length > 0 ? all.filter((context) => wanted.includes(context.name)) : all;

  switch (subcommand) {
    case 'check':
      if (values.out !== undefined) throw new UsageError(`--out belongs to 'export'\n\n${HELP}`);
      return check(contexts, write);
    case 'export':
      if (values.out === undefined) throw new UsageError(`export needs --out <dir>\n\n${HELP}`);
      return exportSchemas(contexts, resolve(values.out), write);
    case undefined:
      throw new UsageError(`a subcommand is required\n\n${HELP}`);
    default:
      throw new UsageError(`unknown subcommand '${subcommand}'\n\n${HELP}`);
  }
}

async function check(contexts: SchemaCliContext[], write: (text: string) => void): Promise<void> {
  const problems: string[] = [];
  const summary: string[] = [];
  for (const context of contexts) {
    const report = checkSchemaCompatibility(context.events, context.samples());
    problems.push(...report.problems.map((problem) => `${context.name}: ${problem}`));
    const versions = context.events
      .types()
      .reduce((sum, type) => sum + context.events.latestVersion(type), 0);
    summary.push(
      `${context.name}: ${report.samplesRead} sample(s) read across ${context.events.types().length} event type(s), ${versions} version(s)`,
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `schema check failed, ${problems.length} problem(s):\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
  }
  write(`schemas compatible\n${summary.map((line) => `  ${line}\n`).join('')}`);
}

async function exportSchemas(contexts: SchemaCliContext[], out: string, write: (text: string) => void) {
  const files = exportJsonSchemas(contexts);
  for (const [name, schema] of Object.entries(files)) {
    const path = join(out, ...name.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(schema, null, 2)}\n`);
  }
  write(`wrote ${Object.keys(files).length} JSON Schema file(s) to ${out}\n`);
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      config: { type: 'string' },
      context: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
