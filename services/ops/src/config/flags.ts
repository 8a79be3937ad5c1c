/**
 * The command-line side of the settings table (env.ts): the flags a service command accepts, its --help options
 * section (each flag with its variable and default), and parsing flags + environment into typed settings.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/usage-error';
import { checkDeploymentSettings } from './deployment-settings';
import type { EnvVar, FlagValues, Service, Settings } from './env';
import { ConfigError, describeSettings, resolveSettings, SERVICE_ENV } from './env';

const HELP_FLAG = { flag: 'help', short: 'h', text: 'Show this text' } as const;
const CHECK_FLAG = {
  flag: 'check-config',
  text: 'Validate the settings and the names they give against the deployment module, print them as JSON (secrets redacted) and exit without connecting',
} as const;

/** The "Options:" section of a service command's --help: flag, description, then its variable and default. */
export function renderOptions(service: Service): string {
  const specs: readonly EnvVar[] = SERVICE_ENV[service];
  const heads = specs.map((spec) => `--${spec.flag} ${spec.arg}`);
  const width =
    Math.max(...heads.map((head) => head.length), '-h, --help'.length, '--check-config'.length) + 2;
  const pad = (text: string) => text.padEnd(width);
  const lines = ['Options (a flag wins over its environment variable; an empty variable counts as unset):'];
  specs.forEach((spec, i) => {
    lines.push(`  ${pad(heads[i] ?? '')}${spec.description}${spec.required ? ' (required)' : ''}`);
    const detail = [`env ${spec.name}`];
    if (spec.default !== undefined) detail.push(`default ${spec.default}`);
    lines.push(`  ${pad('')}${detail.join(', ')}`);
  });
  lines.push(`  ${pad(`--${CHECK_FLAG.flag}`)}${CHECK_FLAG.text}`);
  lines.push(`  ${pad('-h, --help')}${HELP_FLAG.text}`);
  return `${lines.join('\n')}\n`;
}

export interface ParsedService<S extends Service> {
  settings: Settings<S>;
}

/**
 * Parses a service command's arguments against its settings table. `--help` prints `help` and yields null;
 * `--check-config` also loads the deployment module and checks the context and projection names against it,
 * prints the resolved settings and the module's contexts, and yields null; a bad flag or setting is a
 * UsageError.
 */
export async function parseServiceArgs<S extends Service>(
  service: S,
  argv: string[],
  help: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ParsedService<S> | null> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const spec of SERVICE_ENV[service] as readonly EnvVar[]) options[spec.flag] = { type: 'string' };
  options[HELP_FLAG.flag] = { type: 'boolean', short: HELP_FLAG.short };
  options[CHECK_FLAG.flag] = { type: 'boolean' };
  let values: FlagValues;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
  if (values[HELP_FLAG.flag] === true) {
    process.stdout.write(help);
    return null;
  }
  let settings: Settings<S>;
  try {
    settings = resolveSettings(service, values, env);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new UsageError(`${error.message}\n\nSee: tidemark ${service} --help`);
    throw error;
  }
  if (values[CHECK_FLAG.flag] === true) {
    const deployment = await checkDeploymentSettings(settings);
    process.stdout.write(
      `${JSON.stringify({ ...describeSettings(service, settings), deployment }, null, 2)}\n`,
    );
    return null;
  }
  return { settings };
}
