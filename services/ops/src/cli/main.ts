import { runBrokerCommand } from './broker';
import { runDeadLettersCommand } from './dead-letters';
import { runProcessorCommand } from './processor';
import { runProjectorCommand } from './projector';
import { runSchemas } from './schemas';
import { runUp } from './up';
import { UsageError } from './usage-error';

const USAGE = `tidemark: the Tidemark platform command line

Usage: tidemark <command> [options]

Commands:
  up              Start the whole local platform on its embedded default (see: tidemark up --help)
  broker          Run the embedded Kafka-protocol broker (see: tidemark broker --help)
  processor       Run a context's command processor (see: tidemark processor --help)
  projector       Run the projectors of a context's read views (see: tidemark projector --help)
  dead-letters    List a projection's dead letters, or replay them after a fix (see: tidemark dead-letters --help)
  schemas         Check schema compatibility, export JSON Schemas (see: tidemark schemas --help)
  help            Show this text

Every command accepts --help. Logs are JSON lines on stderr; set TIDEMARK_LOG_LEVEL (debug, info, warn, error).
`;

type Command = (argv: string[]) => Promise<void>;

const commands: Record<string, Command> = {
  up: runUp,
  broker: runBrokerCommand,
  processor: runProcessorCommand,
  projector: runProjectorCommand,
  'dead-letters': runDeadLettersCommand,
  schemas: runSchemas,
};

/** Entry point of bin/tidemark.js. Exit code 2 means a usage error. */
export function main(argv: string[]): void {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`tidemark: unknown command '${name}'\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  command(rest).catch((error: unknown) => {
    process.stderr.write(`tidemark ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
}
