import { UsageError } from './usage-error';

const USAGE = `tidemark: the Tidemark platform command line

Usage: tidemark <command> [options]

Commands:
  up              Start the whole local platform on its embedded default (see: tidemark up --help)
  new             Generate a context, or a projection of one, to start from (see: tidemark new --help)
  broker          Run the embedded Kafka-protocol broker (see: tidemark broker --help)
  gateway         Run the command gateway, HTTP in front of the processors (see: tidemark gateway --help)
  processor       Run a context's command processor (see: tidemark processor --help)
  projector       Run the projectors of a context's read views (see: tidemark projector --help)
  query           Run the query API over a context's read views (see: tidemark query --help)
  dead-letters    List a projection's dead letters, or replay them after a fix (see: tidemark dead-letters --help)
  admin           Run the admin API: the operator commands below over HTTP (see: tidemark admin --help)
  projections     List projections, their versions, states, watermarks and lag (see: tidemark projections --help)
  replay          Build a projection version from offset 0 beside the live one (see: tidemark replay --help)
  diff            Compare two versions of a projection at a common watermark (see: tidemark diff --help)
  cutover         Switch a projection's reads to another version, at once or gradually (see: tidemark cutover --help)
  rollback        Switch a projection's reads back to the previous version (see: tidemark rollback --help)
  retire          Stop a projection version and drop its targets after a grace period (see: tidemark retire --help)
  audit           The audit log of operator actions (see: tidemark audit --help)
  schemas         Check schema compatibility, export JSON Schemas (see: tidemark schemas --help)
  search-server   Run the embedded Elasticsearch-compatible search server (see: tidemark search-server --help)
  help            Show this text

Every command accepts --help. gateway, processor, projector, query and admin also take every setting from a
TIDEMARK_* environment variable (listed in their --help; a flag wins); the operator commands (projections,
replay, diff, cutover, rollback, retire, audit) read the admin API's variables, or --endpoints <data-dir>/endpoints.json
of a running \`tidemark up\`. Logs are JSON lines on stderr; set TIDEMARK_LOG_LEVEL (debug, info, warn, error).
`;

type Command = (argv: string[]) => Promise<void>;

// Loaded on demand: a command pulls in only its own dependencies, so --help and --check-config answer at once.
const commands: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./up.js')).runUp,
  new: async () => (await import('./new.js')).runNew,
  broker: async () => (await import('./broker.js')).runBrokerCommand,
  gateway: async () => (await import('./gateway.js')).runGatewayCommand,
  processor: async () => (await import('./processor.js')).runProcessorCommand,
  projector: async () => (await import('./projector.js')).runProjectorCommand,
  query: async () => (await import('./query.js')).runQueryCommand,
  'dead-letters': async () => (await import('./dead-letters.js')).runDeadLettersCommand,
  admin: async () => (await import('./admin.js')).runAdminCommand,
  projections: async () => (await import('./projections.js')).runProjectionsCommand,
  replay: async () => (await import('./replay.js')).runReplayCommand,
  diff: async () => (await import('./diff.js')).runDiffCommand,
  cutover: async () => (await import('./cutover.js')).runCutoverCommand,
  rollback: async () => (await import('./rollback.js')).runRollbackCommand,
  retire: async () => (await import('./retire.js')).runRetireCommand,
  audit: async () => (await import('./audit.js')).runAuditCommand,
  schemas: async () => (await import('./schemas.js')).runSchemas,
  'search-server': async () => (await import('./search-server.js')).runSearchServerCommand,
};

/** Entry point of bin/tidemark.js. Exit code 2 means a usage error. */
export function main(argv: string[]): void {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`tidemark: unknown command '${name}'\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  load()
    .then((command) => command(rest))
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      // An error with a stable code (TidemarkError, ControlConflictError) is shown as "<CODE>: message".
      const code = (error as { code?: unknown } | null)?.code;
      const shown =
        typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) ? `${code}: ${message}` : message;
      process.stderr.write(`tidemark ${name}: ${shown}\n`);
      const exitCode = (error as { exitCode?: unknown } | null)?.exitCode;
      process.exit(error instanceof UsageError ? 2 : typeof exitCode === 'number' ? exitCode : 1);
    });
}
