import type { AuditRecord } from '@tidemark/projection-runtime';
import { COMMON_HELP, parseCommand, positiveInt, resolveCommon, stringOption, withOps } from './ops-args';
import { UsageError } from './usage-error';

const HELP = `tidemark audit: the audit log of operator actions (who, when, what, why), newest first

Every replay, cutover, rollback and retire, from the CLI or the admin API, is recorded with its actor (the API
key id, or cli:<os user> / --actor), the reason given, and details (watermarks at a switch, --force, ...).

Usage: tidemark audit [--limit <n>] [--projection <name>] [--json] [options]

Options:
  --limit <n>            Entries shown (default 50)
  --projection <name>    Only this projection's
  --json                 Print JSON

${COMMON_HELP}`;

export async function runAuditCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(
    argv,
    { limit: { type: 'string' }, projection: { type: 'string' }, json: { type: 'boolean' } },
    HELP,
  );
  if (parsed === null) return;
  if (parsed.positionals.length > 0)
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'\n\n${HELP}`);
  const rawLimit = stringOption(parsed.values, 'limit');
  const limit = rawLimit === undefined ? 50 : positiveInt('--limit', rawLimit, HELP);
  const common = resolveCommon(parsed.values);
  await withOps('audit', common, async (ops) => {
    const records = await ops.audit({ limit, projection: stringOption(parsed.values, 'projection') });
    process.stdout.write(parsed.values.json ? `${JSON.stringify(records, null, 2)}\n` : renderAudit(records));
  });
}

export function renderAudit(records: readonly AuditRecord[]): string {
  if (records.length === 0) return 'no audit entries\n';
  return `${records
    .map((r) => {
      const details = Object.keys(r.details).length > 0 ? ` ${JSON.stringify(r.details)}` : '';
      return `${r.at.toISOString()}  ${r.actor}  ${r.action}  ${r.projection}${r.version !== null ? ` v${r.version}` : ''}${r.reason ? `  "${r.reason}"` : ''}${details}`;
    })
    .join('\n')}\n`;
}
