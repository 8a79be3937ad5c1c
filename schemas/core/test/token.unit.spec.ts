/** The consistency-token codec: formats, every way a token can be malformed, and round-trip properties. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ConsistencyToken,
  covers,
  decodeToken,
  EMPTY_TOKEN,
  encodeToken,
  MAX_TOKEN_LENGTH,
  mergeTokens,
  TidemarkError,
  TOKEN_FORMAT_VERSION,
  tokenFromPositions,
  topicIdentityFromTopicId,
} from '../src/index';

const IDENTITY = '0123456789abcdef';
const OTHER_IDENTITY = 'fedcba9876543210';

/** mulberry32: small, seeded, good enough to generate test vectors reproducibly. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomInt(random: () => number, maxInclusive: number): number {
  // Two draws so that values up to 2^53 - 1 are reachable.
  const high = Math.floor(random() * 2 ** 21);
  const low = Math.floor(random() * 2 ** 32);
  return (high * 2 ** 32 + low) % (maxInclusive + 1);
}

/** Offsets across magnitudes: small, around varint byte boundaries, and huge. */
function randomOffset(random: () => number): number {
  const magnitude = [0, 7, 14, 21, 28, 35, 42, 49, 53][Math.floor(random() * 9)] as number;
  return randomInt(random, Math.min(2 ** magnitude, Number.MAX_SAFE_INTEGER));
}

function randomIdentity(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 16; i++) hex += Math.floor(random() * 16).toString(16);
  return hex;
}

function randomToken(random: () => number, identity = randomIdentity(random)): ConsistencyToken {
  const count = Math.floor(random() * 40);
  const positions = new Map<number, number>();
  const spread = random() < 0.2 ? 2 ** 31 - 1 : 64;
  while (positions.size < count) positions.set(randomInt(random, spread), randomOffset(random));
  return tokenFromPositions(identity, positions);
}

/** Builds a token's text from raw bytes, for crafting malformed inputs. */
function raw(...bytes: number[]): string {
  return Buffer.from(bytes).toString('base64url');
}
const HEADER = [TOKEN_FORMAT_VERSION, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

function assertTokenError(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TidemarkError, `expected a TidemarkError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, 400);
    assert.equal(error.retryable, false);
    return true;
  });
}

const entries = (token: ConsistencyToken) => [...token.positions];

describe('token format', () => {
  test('is version byte, identity, count, then (delta, offset) varints in base64url', () => {
    const token = tokenFromPositions(IDENTITY, { 3: 10, 0: 5, 7: 300 });
    const text = encodeToken(token);
    assert.match(text, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual([...Buffer.from(text, 'base64url')], [...HEADER, 3, 0, 5, 3, 10, 4, 0xac, 0x02]);
    assert.deepEqual(entries(decodeToken(text)), [
      [0, 5],
      [3, 10],
      [7, 300],
    ]);
  });

  test('the empty token round-trips and is covered by anything', () => {
    const text = encodeToken(EMPTY_TOKEN(IDENTITY));
    assert.deepEqual([...Buffer.from(text, 'base64url')], [...HEADER, 0]);
    assert.deepEqual(decodeToken(text, IDENTITY), EMPTY_TOKEN(IDENTITY));
    assert.equal(covers(new Map(), EMPTY_TOKEN(IDENTITY)), true);
  });

  test('offsets of zero and of 2^53 - 1 are kept as given', () => {
    const token = tokenFromPositions(IDENTITY, [
      [0, 0],
      [1, Number.MAX_SAFE_INTEGER],
    ]);
    assert.deepEqual(entries(decodeToken(encodeToken(token))), [
      [0, 0],
      [1, Number.MAX_SAFE_INTEGER],
    ]);
  });

  test('tokenFromPositions accepts a Map, pairs or a record, and sorts', () => {
    const fromRecord = tokenFromPositions(IDENTITY, { 2: 1, 1: 2 });
    const fromPairs = tokenFromPositions(IDENTITY, [
      [1, 2],
      [2, 1],
    ]);
    const fromMap = tokenFromPositions(
      IDENTITY,
      new Map([
        [2, 1],
        [1, 2],
      ]),
    );
    assert.deepEqual(entries(fromRecord), [
      [1, 2],
      [2, 1],
    ]);
    assert.deepEqual(fromPairs, fromRecord);
    assert.deepEqual(fromMap, fromRecord);
  });

  test('tokenFromPositions and encodeToken refuse impossible tokens', () => {
    assertTokenError(() => tokenFromPositions('ABCDEF0123456789', []), 'TOKEN_MALFORMED');
    assertTokenError(() => tokenFromPositions('0123', []), 'TOKEN_MALFORMED');
    assertTokenError(() => tokenFromPositions(IDENTITY, [[-1, 0]]), 'TOKEN_MALFORMED');
    assertTokenError(() => tokenFromPositions(IDENTITY, [[1.5, 0]]), 'TOKEN_MALFORMED');
    assertTokenError(() => tokenFromPositions(IDENTITY, [[2 ** 31, 0]]), 'TOKEN_MALFORMED');
    assertTokenError(() => tokenFromPositions(IDENTITY, [[0, -1]]), 'TOKEN_MALFORMED');
    assertTokenError(() => tokenFromPositions(IDENTITY, [[0, 2 ** 53]]), 'TOKEN_MALFORMED');
    assertTokenError(() => tokenFromPositions(IDENTITY, [[0, Number.NaN]]), 'TOKEN_MALFORMED');
    assertTokenError(
      () =>
        tokenFromPositions(IDENTITY, [
          [1, 1],
          [1, 2],
        ]),
      'TOKEN_MALFORMED',
    );
    assertTokenError(
      () => encodeToken({ topicIdentity: IDENTITY, positions: new Map([[0, 0.5]]) }),
      'TOKEN_MALFORMED',
    );
  });

  test('encodeToken refuses a token too long to be read back', () => {
    const huge = tokenFromPositions(
      IDENTITY,
      Array.from({ length: 1000 }, (_, partition): [number, number] => [partition, Number.MAX_SAFE_INTEGER]),
    );
    assert.throws(() => encodeToken(huge), { code: 'TOKEN_TOO_LARGE' });
  });

  test('topicIdentityFromTopicId folds a uuid into 16 hex chars', () => {
    const identity = topicIdentityFromTopicId('00000000-0000-0000-ffff-ffffffffffff');
    assert.equal(identity, 'ffffffffffffffff');
    assert.equal(topicIdentityFromTopicId('0123456789ABCDEF0000000000000000'), IDENTITY);
    assert.throws(() => topicIdentityFromTopicId('nope'), TypeError);
  });
});

describe('decodeToken refuses malformed input', () => {
  const cases: [string, string][] = [
    ['empty', ''],
    ['garbage characters', 'not a token!'],
    ['standard base64 characters', `${raw(...HEADER, 1, 0, 1).slice(0, -1)}+`],
    ['padding', `${raw(...HEADER, 0)}=`],
    ['a dangling base64 character', `${raw(...HEADER, 0)}A`],
    // 10 bytes end in a character of which only the top 2 bits count; 'B' sets a padding bit.
    ['non-zero padding bits', raw(...HEADER, 0).replace(/A$/, 'B')],
    ['only the version byte', raw(TOKEN_FORMAT_VERSION)],
    ['a truncated identity', raw(TOKEN_FORMAT_VERSION, 1, 2, 3)],
    ['no partition count', raw(...HEADER)],
    ['a count with no pairs', raw(...HEADER, 1)],
    ['a pair without its offset', raw(...HEADER, 2, 0, 1, 1)],
    ['a varint cut in the middle', raw(...HEADER, 1, 0, 0x80)],
    ['a huge count', raw(...HEADER, 0xff, 0xff, 0xff, 0x7f, 0, 0)],
    ['trailing bytes', raw(...HEADER, 1, 0, 1, 0)],
    ['a duplicate partition', raw(...HEADER, 2, 3, 1, 0, 2)],
    ['a non-canonical (overlong) varint', raw(...HEADER, 1, 0x80, 0x00, 1)],
    ['an offset of 2^53', raw(...HEADER, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)],
    [
      'a varint longer than 8 bytes',
      raw(...HEADER, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
    ],
    ['a partition beyond int32', raw(...HEADER, 1, 0x80, 0x80, 0x80, 0x80, 0x08, 0)],
    ['partitions that overflow int32 by deltas', raw(...HEADER, 2, 0xff, 0xff, 0xff, 0xff, 0x07, 0, 1, 0)],
    ['more than 4 KiB', 'A'.repeat(MAX_TOKEN_LENGTH + 4)],
  ];
  for (const [name, text] of cases) {
    test(name, () => assertTokenError(() => decodeToken(text), 'TOKEN_MALFORMED'));
  }

  test('an offset of exactly 2^53 - 1 is still fine', () => {
    const text = raw(...HEADER, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f);
    assert.deepEqual(entries(decodeToken(text)), [[0, Number.MAX_SAFE_INTEGER]]);
  });

  test('a non-string is malformed, not a crash', () => {
    assertTokenError(() => decodeToken(42 as unknown as string), 'TOKEN_MALFORMED');
  });

  test('an unknown format version', () => {
    assertTokenError(() => decodeToken(raw(2, ...HEADER.slice(1), 0)), 'TOKEN_UNSUPPORTED_VERSION');
    assertTokenError(() => decodeToken(raw(0)), 'TOKEN_UNSUPPORTED_VERSION');
  });

  test('a token of another topic when an identity is expected', () => {
    const text = encodeToken(tokenFromPositions(OTHER_IDENTITY, { 0: 1 }));
    assertTokenError(() => decodeToken(text, IDENTITY), 'TOKEN_FOREIGN');
    assert.equal(decodeToken(text, OTHER_IDENTITY).topicIdentity, OTHER_IDENTITY);
    assert.equal(decodeToken(text).topicIdentity, OTHER_IDENTITY);
  });
});

describe('merge and covers', () => {
  test('merge takes the per-partition max and keeps partitions from either side', () => {
    const merged = mergeTokens(
      tokenFromPositions(IDENTITY, { 0: 5, 1: 9 }),
      tokenFromPositions(IDENTITY, { 1: 3, 2: 7 }),
      tokenFromPositions(IDENTITY, { 0: 6 }),
    );
    assert.deepEqual(entries(merged), [
      [0, 6],
      [1, 9],
      [2, 7],
    ]);
  });

  test('merge of one token is that token; of none is a programming error', () => {
    const token = tokenFromPositions(IDENTITY, { 4: 2 });
    assert.deepEqual(mergeTokens(token), token);
    assert.throws(() => mergeTokens(), TypeError);
  });

  test('merge refuses tokens of different topics', () => {
    assertTokenError(() => mergeTokens(EMPTY_TOKEN(IDENTITY), EMPTY_TOKEN(OTHER_IDENTITY)), 'TOKEN_FOREIGN');
  });

  test('covers compares every partition the token names; missing watermark partitions count as 0', () => {
    const token = tokenFromPositions(IDENTITY, { 0: 5, 2: 0, 3: 1 });
    assert.equal(
      covers(
        new Map([
          [0, 5],
          [3, 1],
        ]),
        token,
      ),
      true,
    );
    assert.equal(
      covers(
        new Map([
          [0, 4],
          [3, 1],
        ]),
        token,
      ),
      false,
    );
    assert.equal(covers(new Map([[0, 5]]), token), false);
    assert.equal(
      covers(
        new Map([
          [0, 100],
          [1, 100],
          [3, 100],
        ]),
        token,
      ),
      true,
    );
  });
});

describe('properties over random vectors', () => {
  const RUNS = 500;

  test('decode(encode(t)) equals t, and the text is url-safe and bounded', () => {
    const random = prng(0x7de3a2c);
    for (let run = 0; run < RUNS; run++) {
      const token = randomToken(random);
      const text = encodeToken(token);
      assert.match(text, /^[A-Za-z0-9_-]*$/);
      assert.ok(text.length <= MAX_TOKEN_LENGTH);
      assert.deepEqual(decodeToken(text, token.topicIdentity), token, `run ${run}: ${text}`);
    }
  });

  test('one token, one spelling: any text that decodes re-encodes to itself', () => {
    const random = prng(42);
    let accepted = 0;
    for (let run = 0; run < RUNS * 4; run++) {
      const bytes = [...Buffer.from(encodeToken(randomToken(random)), 'base64url')];
      // Corrupt, cut or extend the valid bytes.
      const mutation = Math.floor(random() * 3);
      const at = Math.floor(random() * bytes.length);
      if (mutation === 0) bytes[at] = Math.floor(random() * 256);
      else if (mutation === 1) bytes.length = at;
      else bytes.splice(at, 0, Math.floor(random() * 256));
      const text = Buffer.from(bytes).toString('base64url');
      let decoded: ConsistencyToken;
      try {
        decoded = decodeToken(text);
      } catch (error) {
        assert.ok(error instanceof TidemarkError && error.status === 400, String(error));
        continue;
      }
      accepted++;
      assert.equal(encodeToken(decoded), text);
    }
    assert.ok(accepted > 0, 'some mutations should still be valid tokens');
  });

  test('merge is commutative, associative, idempotent and covered by covers', () => {
    const random = prng(2024);
    for (let run = 0; run < RUNS; run++) {
      const identity = randomIdentity(random);
      const [a, b, c] = [
        randomToken(random, identity),
        randomToken(random, identity),
        randomToken(random, identity),
      ];
      const ab = mergeTokens(a, b);
      assert.deepEqual(ab, mergeTokens(b, a));
      assert.deepEqual(mergeTokens(ab, c), mergeTokens(a, mergeTokens(b, c)));
      assert.deepEqual(mergeTokens(a, a), a);
      // The merged token read as a watermark covers both inputs, and covering it means covering each.
      assert.ok(covers(ab.positions, a) && covers(ab.positions, b));
      for (const [partition, offset] of ab.positions) {
        assert.equal(offset, Math.max(a.positions.get(partition) ?? 0, b.positions.get(partition) ?? 0));
      }
      assert.deepEqual(decodeToken(encodeToken(ab)), ab);
    }
  });

  test('covers agrees with a per-partition comparison', () => {
    const random = prng(7);
    for (let run = 0; run < RUNS; run++) {
      const identity = randomIdentity(random);
      const token = randomToken(random, identity);
      const watermark = new Map<number, number>();
      for (const [partition, offset] of token.positions) {
        const roll = random();
        if (roll < 0.1) continue;
        watermark.set(partition, roll < 0.2 ? Math.max(0, offset - 1) : offset + Math.floor(random() * 3));
      }
      const expected = [...token.positions].every(([p, o]) => (watermark.get(p) ?? 0) >= o);
      assert.equal(covers(watermark, token), expected);
    }
  });
});
