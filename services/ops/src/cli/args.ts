import { UsageError } from './usage-error';

/** Parses an integer option; undefined stays undefined. */
export function intOption(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min)
    throw new UsageError(`--${name} must be an integer >= ${min} (got '${value}')`);
  return parsed;
}

/** Stays in the foreground until SIGINT or SIGTERM, then runs `stop`; a failed stop sets exit code 1. */
export function runUntilSignalled(command: string, stop: () => Promise<unknown>): Promise<void> {
  return new Promise<void>((resolveStop) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stop().then(
        () => resolveStop(),
        (error: unknown) => {
          process.stderr.write(`tidemark ${command}: stop failed: ${String(error)}\n`);
          process.exitCode = 1;
          resolveStop();
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * Parses a command's arguments: a parse error is a UsageError that carries the help text; `--help` prints it
 * and yields null (the command then returns).
 */
export function parseOrHelp<T extends { help?: boolean }>(
  parse: () => { values: T },
  help: string,
): T | null {
  let values: T;
  try {
    values = parse().values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
  if (values.help) {
    process.stdout.write(help);
    return null;
  }
  return values;
}
