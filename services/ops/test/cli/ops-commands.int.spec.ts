import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';

// Runs the CLI as a child process, so it is an integration test (the unit tier does no I/O).
const CLI = resolve(__dirname, '../../../bin/tidemark.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });

describe('the operator commands: help and usage errors', () => {
  const commands: [string[], string[]][] = [
    [
      ['projections', '--help'],
      ['list', '--json', '--endpoints'],
    ],
    [
      ['replay', '--help'],
      ['--version', '--no-progress', '--max-events-per-second', '--catalog', 'live: <events> events'],
    ],
    [
      ['diff', '--help'],
      ['--sample', '--json', 'Exit code: 0'],
    ],
    [
      ['cutover', '--help'],
      ['--to', '--force', '--shadow', '--percent', '--abort', 'CUTOVER_LAGGING'],
    ],
    [
      ['rollback', '--help'],
      ['--force', '--reason'],
    ],
    [
      ['retire', '--help'],
      ['--version', '--grace', 'VERSION_ACTIVE'],
    ],
    [
      ['audit', '--help'],
      ['--limit', '--actor'],
    ],
    [
      ['admin', '--help'],
      ['/v1/admin/projections', 'TIDEMARK_API_KEYS_FILE', 'scope'],
    ],
  ];
  for (const [args, mentions] of commands) {
    test(`tidemark ${args[0]} --help explains itself`, () => {
      const result = run(...args);
      assert.equal(result.status, 0, result.stderr);
      for (const mention of mentions) assert.ok(result.stdout.includes(mention), `${args[0]}: ${mention}`);
    });
  }

  test('the top level lists them', () => {
    const result = run('--help');
    for (const command of [
      'admin',
      'projections',
      'replay',
      'diff',
      'cutover',
      'rollback',
      'retire',
      'audit',
    ])
      assert.match(result.stdout, new RegExp(`\\n  ${command} `));
  });

  test('mistakes are usage errors (exit 2) naming what is wrong', () => {
    const cases: [string[], RegExp][] = [
      [['replay', 'listing-detail'], /--version must be a whole number/],
      [['replay', 'listing-detail', '--version', '2'], /--brokers \(or TIDEMARK_BROKERS\)/],
      [['diff', 'listing-detail', '1'], /give a projection and two versions/],
      [['cutover', 'listing-detail', '--to', '2', '--shadow', '--abort'], /only one of/],
      [
        ['cutover', 'listing-detail', '--to', '2', '--percent', '150'],
        /--percent must be a number between 0 and 100/,
      ],
      [
        ['retire', 'listing-detail', '--version', '2', '--grace', 'soon'],
        /--grace: 'soon' is not a duration/,
      ],
      [['projections', 'show'], /unknown action 'show'/],
      [['audit', '--limit', '0'], /--limit must be a whole number >= 1/],
      [['rollback', 'a', 'b'], /give exactly one projection/],
      [
        ['replay', 'x', '--version', '2', '--brokers', 'nope'],
        /TIDEMARK_BROKERS \(--brokers\) must be host:port/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = run(...args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
  });
});
