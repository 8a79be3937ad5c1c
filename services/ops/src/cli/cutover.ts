import type { CutoverOutcome } from '../projection-ops';
import {
  COMMON_HELP,
  parseCommand,
  positiveInt,
  resolveCommon,
  stringOption,
  waitMsOf,
  withOps,
} from './ops-args';
import { UsageError } from './usage-error';

const HELP = `tidemark cutover: switch a projection's reads to another version, at once or gradually

A full cutover needs the version to be live and to cover the active version's watermark on every partition
(its checkpoint >= the active one's; otherwise CUTOVER_LAGGING). The switch is one transaction of the control
table that every query API instance observes (they move reads only once the new version covers what they
served, so no reader goes back in time); for an Elasticsearch view the alias tm-<context>-<name> moves to the
new index in the same step. The old version keeps running: \`tidemark rollback\` switches back.

Gradual: --shadow keeps serving the active version but has query APIs read the new one too and report mismatches
(see \`tidemark projections list\`); --percent <P> serves P% of reads from the new version; a later
\`tidemark cutover --to <N>\` completes the switch, --abort ends the gradual cutover.

Usage: tidemark cutover <projection> --to <N> [--force] [--shadow | --percent <P>] [options]
       tidemark cutover <projection> --abort [options]

Options:
  --to <n>           The version to switch reads to (required unless --abort)
  --wait <duration>  How long to wait for the version to cover the active one under live traffic before
                     refusing (default 10s)
  --force            Switch even if the version lags (a warning; recorded in the audit log)
  --shadow           Shadow reads only: compare, keep serving the active version
  --percent <p>      Serve p% (0-100) of reads from the version
  --abort            End a gradual cutover (the active version serves every read)

${COMMON_HELP}
Exit code: 0 switched, 1 refused or failed (tidemark cutover: <CODE>: message on stderr), 2 usage error.
`;

export async function runCutoverCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(
    argv,
    {
      to: { type: 'string' },
      force: { type: 'boolean' },
      wait: { type: 'string' },
      shadow: { type: 'boolean' },
      percent: { type: 'string' },
      abort: { type: 'boolean' },
    },
    HELP,
  );
  if (parsed === null) return;
  const { values } = parsed;
  const [projection, ...extra] = parsed.positionals;
  if (!projection || extra.length > 0) throw new UsageError(`give exactly one projection\n\n${HELP}`);
  const rawPercent = stringOption(values, 'percent');
  const modes = [values.shadow === true, rawPercent !== undefined, values.abort === true].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`use only one of --shadow, --percent, --abort\n\n${HELP}`);
  const rawTo = stringOption(values, 'to');
  if (values.abort === true && rawTo !== undefined) throw new UsageError(`--abort takes no --to\n\n${HELP}`);
  const to = values.abort === true ? undefined : positiveInt('--to', rawTo, HELP);
  let percent: number | undefined;
  if (rawPercent !== undefined) {
    percent = Number(rawPercent);
    if (!/^\d+(\.\d+)?$/.test(rawPercent) || percent > 100)
      throw new UsageError(`--percent must be a number between 0 and 100 (got '${rawPercent}')\n\n${HELP}`);
  }
  const common = resolveCommon(values);
  await withOps('cutover', common, async (ops) => {
    const outcome = await ops.cutover({
      projection,
      to,
      force: values.force === true,
      waitMs: waitMsOf(values),
      mode: values.shadow === true ? 'shadow' : percent !== undefined ? 'split' : 'full',
      percent,
      abort: values.abort === true,
      actor: common.actor,
      reason: common.reason,
    });
    reportSwitch(outcome);
  });
}

/** Prints what a cutover or rollback did (a forced switch warns on stderr). */
export function reportSwitch(outcome: CutoverOutcome): void {
  if (outcome.forced) {
    process.stderr.write(
      `warning: forced: v${outcome.to} was behind v${outcome.from} on ${outcome.lagging.length} partition(s) (${outcome.lagging
        .map((l) => `p${l.partition}: ${l.target} < ${l.active}`)
        .join(', ')}); reads may go back in time until it catches up\n`,
    );
  }
  const name = outcome.projection;
  switch (outcome.action) {
    case 'cutover':
      process.stdout.write(`cutover ${name}: v${outcome.from} -> v${outcome.to}; v${outcome.to} is active\n`);
      break;
    case 'rollback':
      process.stdout.write(
        `rollback ${name}: v${outcome.from} -> v${outcome.to}; v${outcome.to} is active\n`,
      );
      break;
    case 'cutover.shadow':
      process.stdout.write(
        `cutover ${name}: shadow reads of v${outcome.to} beside the active v${outcome.from} (mismatches: tidemark projections list)\n`,
      );
      break;
    case 'cutover.split':
      process.stdout.write(
        `cutover ${name}: ${outcome.candidate?.percent ?? 0}% of reads from v${outcome.to}, the rest from the active v${outcome.from}\n`,
      );
      break;
    case 'cutover.abort':
      process.stdout.write(`cutover ${name}: gradual cutover ended; v${outcome.from} serves every read\n`);
      break;
  }
}
