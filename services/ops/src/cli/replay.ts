import type { ReplayProgress } from '../projection-ops';
import { formatProgress, formatReplaySummary } from '../projection-ops';
import { COMMON_HELP, parseCommand, positiveInt, resolveCommon, stringOption, withOps } from './ops-args';
import { UsageError } from './usage-error';

const HELP = `tidemark replay: build a projection version from offset 0 into fresh targets, beside the live one

Registers the version as 'building' and runs its projector in this process (consumer group
<context>.proj.<name>.v<N>) while live traffic goes on; the version the query API serves is not touched. When
every partition's checkpoint has reached the events log end, the version becomes 'live' (projector services
take it over) and the command exits. Killed or interrupted, the version stays 'building': run the same command
again and it resumes from the checkpoints in the version's store (nothing is rebuilt twice).

Usage: tidemark replay <projection> --version <N> [options]
  e.g. tidemark replay listing-detail --version 2 --endpoints .tidemark/endpoints.json --catalog ./catalog.js

Options:
  --version <n>                  The version to build (required); the catalog must define it (--catalog)
  --no-progress                  No progress bar (a TTY redraws one line; otherwise a line every 2 s)
  --max-events-per-second <n>    Throttle the rebuild (log offsets per second)

${COMMON_HELP}
Prints "replay <projection> v<N> live: <events> events in <s> s (<rate> events/s)" on stdout when done.
Exit code: 0 done (or already live), 1 refused or failed (tidemark replay: <CODE>: message on stderr),
2 usage error, 130 interrupted (SIGINT/SIGTERM; rerun to resume).
`;

export async function runReplayCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(
    argv,
    {
      version: { type: 'string' },
      'no-progress': { type: 'boolean' },
      'max-events-per-second': { type: 'string' },
    },
    HELP,
  );
  if (parsed === null) return;
  const [projection, ...extra] = parsed.positionals;
  if (!projection || extra.length > 0) throw new UsageError(`give exactly one projection\n\n${HELP}`);
  const version = positiveInt('--version', stringOption(parsed.values, 'version'), HELP);
  const maxRate = stringOption(parsed.values, 'max-events-per-second');
  const rate = maxRate === undefined ? undefined : positiveInt('--max-events-per-second', maxRate, HELP);
  const common = resolveCommon(parsed.values);
  const progressShown = parsed.values['no-progress'] !== true;
  const tty = process.stderr.isTTY === true;
  let lastPrinted = 0;
  let drawn = false;
  const onProgress = (progress: ReplayProgress) => {
    if (!progressShown) return;
    const line = formatProgress(progress);
    if (tty) {
      process.stderr.write(`\r${line}\x1b[K`);
      drawn = true;
    } else if (Date.now() - lastPrinted >= 2_000) {
      lastPrinted = Date.now();
      process.stderr.write(`${line}\n`);
    }
  };

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await withOps('replay', common, async (ops) => {
      const outcome = await ops.replay({
        projection,
        version,
        actor: common.actor,
        reason: common.reason,
        onProgress,
        signal: abort.signal,
        maxEventsPerSecond: rate,
      });
      if (drawn) process.stderr.write('\n');
      if (outcome.status === 'stopped') {
        process.stderr.write(
          `tidemark replay: interrupted; ${projection} v${version} stays building (checkpoints kept): run the same command to resume\n`,
        );
        process.exitCode = 130;
        return;
      }
      process.stdout.write(
        `${formatReplaySummary(projection, version, outcome.appliedEvents, outcome.seconds)}${
          outcome.status === 'already-live' ? ' (it was already live: nothing to do)' : ''
        }\n`,
      );
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
