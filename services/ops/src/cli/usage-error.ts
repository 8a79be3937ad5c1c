/** A mistake in the command line: reported without a stack and with exit code 2. */
export class UsageError extends Error {}

/** Parses a command line; a parse failure becomes a UsageError followed by the command's help. */
export function parseOrUsage<T>(parse: (argv: string[]) => T, argv: string[], help: string): T {
  try {
    return parse(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
}
