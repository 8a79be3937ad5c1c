/** A mistake in the command line: reported without a stack and with exit code 2. */
export class UsageError extends Error {}
