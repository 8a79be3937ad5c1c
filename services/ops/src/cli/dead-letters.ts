import { parseArgs } from 'node:util';
import { listDeadLetters, replayDeadLetters } from '@tidemark/projection-runtime';
import { deploymentOf } from '../config/deployment-settings';
import { intOption, parseOrHelp } from './args';
import { commandLogger } from './ops-args';
import { UsageError } from './usage-error';

const HELP = `tidemark dead-letters: list a projection's dead letters, or replay them after a fix

A projection with the dead-letter policy records an event it cannot apply on <context>.proj.<name>.v<N>.dead-letters
(same partition as the event) and skips it; later events of the same document are parked behind it, so a replay
applies them in order. A replay is performed by the projector that owns the partition, with the code it runs now
(deploy the fix first); a key whose event still fails stays parked.

Usage:
  tidemark dead-letters list   --brokers <host:port,...> --projection <name> [options]
  tidemark dead-letters replay --brokers <host:port,...> --projection <name> [options]

Options:
  --brokers <list>       Kafka bootstrap servers, comma-separated (required)
  --projection <name>    The projection (e.g. listing-detail) (required)
  --version <n>          Its version (default: the version this release defines; required for a projection
                         this release does not define)
  --config <file>        The deployment module (env TIDEMARK_CONFIG; default ./tidemark.config.js)
  --context <name>       The context (default: the one the deployment module gives the projection)
  --partitions <list>    Only these partitions, comma-separated (default all)
  --keys <list>          replay: only these document keys (default every parked key)
  --wait-ms <n>          replay: wait this long for the projectors' results (default 10000; 0: do not wait)
  --json                 Print JSON instead of a table
  -h, --help             Show this text

Exit code: list: 0, or 3 when dead letters are pending; replay: 0 when every requested key was replayed,
3 when some still fail or a partition did not answer in time.
`;

export async function runDeadLettersCommand(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (action !== 'list' && action !== 'replay') {
    throw new UsageError(`unknown action '${action}' (list or replay)\n\n${HELP}`);
  }
  const values = parseOrHelp(() => parse(rest), HELP);
  if (values === null) return;
  if (!values.brokers) throw new UsageError(`--brokers is required\n\n${HELP}`);
  if (!values.projection) throw new UsageError(`--projection is required\n\n${HELP}`);
  // The deployment module gives the context and version of its own projections; with both given, the dead
  // letters of any projection (an older release's) can be read without it.
  const explicitVersion = intOption('version', values.version, 1);
  const deployment =
    values.context !== undefined && explicitVersion !== undefined
      ? undefined
      : await deploymentOf({ config: values.config ?? process.env.TIDEMARK_CONFIG });
  const context = values.context ?? deployment?.contextOfProjection(values.projection);
  if (context === undefined) {
    throw new UsageError(
      `'${values.projection}' is not a projection of the deployment module: give --context`,
    );
  }
  // A projection of this release gives the default version; any other (an older release's) needs --version.
  const known = deployment?.projections([context]).find((p) => p.name === values.projection);
  const version = explicitVersion ?? known?.version;
  if (version === undefined) {
    throw new UsageError(
      `'${values.projection}' is not a projection of '${context}' in this release: give --version`,
    );
  }
  const projection = { context, name: values.projection, version };
  const partitions = values.partitions?.split(',').map((p) => {
    const n = intOption('partitions', p.trim(), 0);
    if (n === undefined) throw new UsageError('--partitions: empty entry');
    return n;
  });
  const logger = commandLogger('dead-letters', process.env.TIDEMARK_LOG_LEVEL ?? 'warn');
  const brokers = values.brokers.split(',').map((b) => b.trim());

  if (action === 'list') {
    const listing = await listDeadLetters({ brokers, projection, logger, partitions });
    const pending = listing.entries.filter((e) => e.status === 'pending');
    if (values.json) {
      process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
    } else {
      process.stdout.write(
        `${projection.context}.${projection.name}.v${projection.version}: ${listing.entries.length} dead letters, ${pending.length} pending\n`,
      );
      for (const e of listing.entries) {
        process.stdout.write(
          `  p${e.partition}@${e.offset} ${e.type} ${e.status} keys=${e.pendingKeys.join(',') || e.keys.join(',')} ` +
            `${e.parkedBehind !== undefined ? `(parked behind ${e.parkedBehind}) ` : ''}${e.at}: ${e.error}\n`,
        );
      }
    }
    process.exitCode = pending.length > 0 ? 3 : 0;
    return;
  }

  const waitMs = intOption('wait-ms', values['wait-ms'], 0) ?? 10_000;
  const outcome = await replayDeadLetters({
    brokers,
    projection,
    logger,
    partitions,
    keys: values.keys?.split(',').map((k) => k.trim()),
    waitMs,
  });
  const failed = outcome.results.flatMap((r) => r.failed);
  const replayed = outcome.results.flatMap((r) => r.replayed);
  const unanswered = outcome.partitions.filter((p) => !outcome.results.some((r) => r.partition === p));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  } else {
    process.stdout.write(
      `replay ${outcome.requestId}: ${replayed.length} events replayed, ${failed.length} still failing` +
        `${waitMs > 0 && unanswered.length > 0 ? `, no answer yet from partitions ${unanswered.join(',')}` : ''}\n`,
    );
    for (const f of failed)
      process.stdout.write(`  still failing: key ${f.key} at offset ${f.offset}: ${f.error}\n`);
  }
  process.exitCode = failed.length > 0 || (waitMs > 0 && unanswered.length > 0) ? 3 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      brokers: { type: 'string' },
      projection: { type: 'string' },
      version: { type: 'string' },
      config: { type: 'string' },
      context: { type: 'string' },
      partitions: { type: 'string' },
      keys: { type: 'string' },
      'wait-ms': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
