import type { DiffResult } from '../projection-ops';
import {
  COMMON_HELP,
  parseCommand,
  positiveInt,
  resolveCommon,
  stringOption,
  withExitCode,
  withOps,
} from './ops-args';
import { UsageError } from './usage-error';

const HELP = `tidemark diff: compare two versions of a projection at a common watermark

The watermark compared at is, per partition, the lower of the two versions' checkpoints. The keys compared are
every key the events below it touch (read from the log, so it works on every store, memcached included). A key
is compared only where both versions show it as of the same log position: one that a version moved past the
watermark meanwhile is reloaded a few times, then reported as 'moving'; a memcached miss (eviction) is
'unknown'. Documents are compared field by field.

Usage: tidemark diff <projection> <versionA> <versionB> [options]
  e.g. tidemark diff listing-detail 1 2 --endpoints .tidemark/endpoints.json --catalog ./catalog.js

Options:
  --sample <n>     Differing documents listed with their field differences (default 10)
  --json           Print the result object as JSON

${COMMON_HELP}
Exit code: 0 the versions are equal, 1 they differ, 2 error (usage, unknown version, store unreachable).
`;

export async function runDiffCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { sample: { type: 'string' }, json: { type: 'boolean' } }, HELP);
  if (parsed === null) return;
  const [projection, rawA, rawB, ...extra] = parsed.positionals;
  if (!projection || rawA === undefined || rawB === undefined || extra.length > 0) {
    throw new UsageError(`give a projection and two versions\n\n${HELP}`);
  }
  const a = positiveInt('versionA', rawA, HELP);
  const b = positiveInt('versionB', rawB, HELP);
  const rawSample = stringOption(parsed.values, 'sample');
  const sample =
    rawSample === undefined ? 10 : rawSample === '0' ? 0 : positiveInt('--sample', rawSample, HELP);
  const common = resolveCommon(parsed.values);
  try {
    await withOps('diff', common, async (ops) => {
      const result = await ops.diff({ projection, a, b, sample });
      const differs = result.differing + result.onlyInA + result.onlyInB > 0;
      process.stdout.write(parsed.values.json ? `${JSON.stringify(result, null, 2)}\n` : renderDiff(result));
      process.exitCode = differs ? 1 : 0;
    });
  } catch (error) {
    // 1 means "differ": any failure is 2.
    throw withExitCode(error, 2);
  }
}

export function renderDiff(result: DiffResult): string {
  const lines = [
    `diff ${result.projection} v${result.a} vs v${result.b} at watermark ${Object.entries(result.watermark)
      .map(([p, w]) => `${p}:${w}`)
      .join(' ')}`,
    `  documents: v${result.a} ${result.counts.a}, v${result.b} ${result.counts.b}`,
    `  compared ${result.compared}: ${result.equal} equal, ${result.differing} differing, ` +
      `${result.onlyInA} only in v${result.a}, ${result.onlyInB} only in v${result.b}`,
    `  not compared: ${result.unknown} unknown (cache miss), ${result.moving} moving`,
  ];
  for (const entry of result.sample) {
    lines.push(
      `  ${entry.key} (partition ${entry.partition})${entry.kind === 'differ' ? '' : entry.kind === 'onlyInA' ? ` only in v${result.a}` : ` only in v${result.b}`}`,
    );
    if (entry.kind === 'differ') {
      for (const d of entry.differences) {
        lines.push(`      ${d.path}: ${show(d.a)} -> ${show(d.b)}`);
      }
    }
  }
  const total = result.differing + result.onlyInA + result.onlyInB;
  if (total > result.sample.length) lines.push(`  ... ${total - result.sample.length} more (--sample)`);
  lines.push(total === 0 ? 'equal' : `${total} documents differ`);
  return `${lines.join('\n')}\n`;
}

function show(value: unknown): string {
  return value === undefined ? '(missing)' : JSON.stringify(value);
}
