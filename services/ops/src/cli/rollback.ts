import { reportSwitch } from './cutover';
import { COMMON_HELP, parseCommand, resolveCommon, waitMsOf, withOps } from './ops-args';
import { UsageError } from './usage-error';

const HELP = `tidemark rollback: switch a projection's reads back to the version active before the last switch

The same switch as \`tidemark cutover\`, in reverse: the previous version must still be live (not retired) and
cover the active one's watermark on every partition (it kept running since the cutover), else CUTOVER_LAGGING.

Usage: tidemark rollback <projection> [--force] [options]

Options:
  --wait <duration>  How long to wait for the version to cover the active one under live traffic before
                     refusing (default 10s)
  --force            Switch even if the previous version lags (a warning; recorded in the audit log)

${COMMON_HELP}
Exit code: 0 switched, 1 refused or failed (tidemark rollback: <CODE>: message on stderr), 2 usage error.
`;

export async function runRollbackCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { force: { type: 'boolean' }, wait: { type: 'string' } }, HELP);
  if (parsed === null) return;
  const [projection, ...extra] = parsed.positionals;
  if (!projection || extra.length > 0) throw new UsageError(`give exactly one projection\n\n${HELP}`);
  const common = resolveCommon(parsed.values);
  await withOps('rollback', common, async (ops) => {
    reportSwitch(
      await ops.rollback({
        projection,
        force: parsed.values.force === true,
        waitMs: waitMsOf(parsed.values),
        actor: common.actor,
        reason: common.reason,
      }),
    );
  });
}
