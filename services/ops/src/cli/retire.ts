import {
  COMMON_HELP,
  parseCommand,
  parseDuration,
  positiveInt,
  resolveCommon,
  stringOption,
  withOps,
} from './ops-args';
import { UsageError } from './usage-error';

const HELP = `tidemark retire: stop a projection version and drop its targets after a grace period

Refuses the active version and the gradual-cutover candidate (VERSION_ACTIVE). Projector services stop the
version at once; its targets (table, index, key prefix) are dropped when the grace period ends (by the projector
services), or right away with --grace 0. Until then nothing is lost but the version can no longer be switched
to.

Usage: tidemark retire <projection> --version <N> [--grace <duration>] [options]

Options:
  --version <n>         The version to retire (required)
  --grace <duration>    How long its targets are kept: 0, 30s, 10m, 2h, 1h30m (default 10m)

${COMMON_HELP}
Exit code: 0 retired, 1 refused or failed (tidemark retire: <CODE>: message on stderr), 2 usage error.
`;

export async function runRetireCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { version: { type: 'string' }, grace: { type: 'string' } }, HELP);
  if (parsed === null) return;
  const [projection, ...extra] = parsed.positionals;
  if (!projection || extra.length > 0) throw new UsageError(`give exactly one projection\n\n${HELP}`);
  const version = positiveInt('--version', stringOption(parsed.values, 'version'), HELP);
  const rawGrace = stringOption(parsed.values, 'grace');
  let graceMs: number | undefined;
  if (rawGrace !== undefined) {
    try {
      graceMs = parseDuration(rawGrace);
    } catch (error) {
      throw new UsageError(`--grace: ${(error as Error).message}\n\n${HELP}`);
    }
  }
  const common = resolveCommon(parsed.values);
  await withOps('retire', common, async (ops) => {
    const outcome = await ops.retire({
      projection,
      version,
      graceMs,
      actor: common.actor,
      reason: common.reason,
    });
    process.stdout.write(
      outcome.dropped
        ? `retire ${projection} v${version}: retired, targets dropped\n`
        : `retire ${projection} v${version}: retired; targets dropped after ${outcome.retireAfter}\n`,
    );
  });
}
