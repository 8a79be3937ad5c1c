import type { ProjectionStatus } from '../projection-ops';
import { COMMON_HELP, parseCommand, resolveCommon, withOps } from './ops-args';
import { UsageError } from './usage-error';

const HELP = `tidemark projections: what projections and versions a context has

  tidemark projections list [--json] [options]

For every projection: each version (registered in the control table, or only defined by the catalog), its
store, state (building, live, retired, failed; 'unregistered' for a catalog version never replayed), whether it
is active, the previous one (what rollback returns to) or the gradual-cutover candidate, and per partition its
watermark (the checkpoint in its store) and lag (events log end minus watermark). Shadow-read reports of a
candidate are listed under their projection.

Options:
  --json                 Print JSON

${COMMON_HELP}`;

export async function runProjectionsCommand(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (action !== 'list') throw new UsageError(`unknown action '${action}' (list)\n\n${HELP}`);
  const parsed = parseCommand(rest, { json: { type: 'boolean' } }, HELP);
  if (parsed === null) return;
  if (parsed.positionals.length > 0)
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'\n\n${HELP}`);
  const common = resolveCommon(parsed.values);
  await withOps('projections', common, async (ops) => {
    const projections = await ops.list();
    process.stdout.write(
      parsed.values.json ? `${JSON.stringify(projections, null, 2)}\n` : renderProjections(projections),
    );
  });
}

const grouped = (n: number) => n.toLocaleString('en-US');

export function renderProjections(projections: readonly ProjectionStatus[]): string {
  const rows: string[][] = [['PROJECTION', 'VERSION', 'STORE', 'STATE', 'ROLE', 'WATERMARK', 'LAG']];
  const notes: string[] = [];
  for (const p of projections) {
    for (const v of p.versions) {
      const role = v.active
        ? 'active'
        : v.candidate
          ? `candidate (${v.candidate.mode}${v.candidate.mode === 'split' ? ` ${v.candidate.percent}%` : ''})`
          : v.previous
            ? 'previous'
            : '-';
      const watermark = v.partitions.reduce((sum, q) => sum + q.watermark, 0);
      rows.push([
        p.projection,
        `v${v.version}`,
        v.store,
        v.droppedAt ? 'retired (dropped)' : v.state,
        role,
        v.partitions.length > 0 ? grouped(watermark) : '-',
        v.lag === null ? '-' : grouped(v.lag),
      ]);
      if (v.partitions.length > 0) {
        notes.push(
          `${p.projection} v${v.version} per partition (watermark/lag): ${v.partitions
            .map((q) => `${q.partition}:${q.watermark}/${q.lag ?? '?'}`)
            .join(' ')}`,
        );
      }
      if (v.error) notes.push(`${p.projection} v${v.version}: ${v.error}`);
      if (v.retireAfter && !v.droppedAt)
        notes.push(`${p.projection} v${v.version}: targets dropped after ${v.retireAfter}`);
    }
    for (const r of p.shadowReports) {
      notes.push(
        `${p.projection} v${r.version} shadow vs v${r.activeVersion}: ${r.reads} reads, ${r.mismatches} mismatches, ${r.skipped} skipped${
          r.sample.length > 0
            ? ` (e.g. ${r.sample
                .map((s) => s.key)
                .slice(-5)
                .join(', ')})`
            : ''
        }`,
      );
    }
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const table = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return `${[...table, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')}\n`;
}
