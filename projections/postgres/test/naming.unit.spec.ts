import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dedupeWrites,
  indexName,
  MAX_IDENTIFIER_BYTES,
  postgresTargetNames,
  quoteIdent,
  quoteLiteral,
  validateProjectionName,
} from '../src/index';

describe('postgres target names', () => {
  it('proj_<name with - as _>_v<N> and its checkpoints table', () => {
    assert.deepEqual(postgresTargetNames({ name: 'listing-detail', version: 3 }), {
      table: 'proj_listing_detail_v3',
      checkpoints: 'proj_listing_detail_v3_checkpoints',
    });
    assert.deepEqual(postgresTargetNames({ name: 'x1', version: 12 }), {
      table: 'proj_x1_v12',
      checkpoints: 'proj_x1_v12_checkpoints',
    });
  });

  it('refuses names that are not lowercase letters, digits and single dashes', () => {
    for (const name of [
      '',
      'Listing',
      'listing_detail',
      '1st',
      '-a',
      'a-',
      'a--b',
      'a b',
      'a"b',
      'a;drop',
      'é',
      'a.b',
    ]) {
      assert.throws(() => validateProjectionName(name), /invalid projection name/, name);
      assert.throws(() => postgresTargetNames({ name, version: 1 }), /invalid projection name/, name);
    }
    for (const name of ['a', 'listing-detail', 'seller-stats2', 'a-1-b']) validateProjectionName(name);
  });

  it('refuses bad versions and names too long for a Postgres identifier', () => {
    for (const version of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => postgresTargetNames({ name: 'a', version }), /invalid projection version/);
    }
    const longest = 'a'.repeat(MAX_IDENTIFIER_BYTES - 'proj__v1_checkpoints'.length);
    assert.equal(postgresTargetNames({ name: longest, version: 1 }).checkpoints.length, MAX_IDENTIFIER_BYTES);
    assert.throws(() => postgresTargetNames({ name: `${longest}a`, version: 1 }), /too long/);
    assert.throws(() => postgresTargetNames({ name: longest, version: 10 }), /too long/);
  });

  it('quotes identifiers and literals', () => {
    assert.equal(quoteIdent('proj_a_v1'), '"proj_a_v1"');
    assert.equal(quoteIdent('we"ird'), '"we""ird"');
    assert.equal(quoteLiteral("it's"), "'it''s'");
    assert.throws(() => quoteLiteral('a\u0000b'));
  });

  it('index names are distinct per field and fit 63 bytes', () => {
    const table = `proj_${'a'.repeat(40)}_v1`;
    const fields = ['category', 'Category', 'price cents', 'x'.repeat(100), "o'dd", 'émoji🚲'];
    const names = fields.map((f) => indexName(table, f));
    assert.equal(new Set(names).size, fields.length);
    for (const n of names) {
      assert.ok(Buffer.byteLength(n) <= MAX_IDENTIFIER_BYTES, n);
      assert.match(n, /^[a-z0-9_]+$/);
    }
    assert.match(indexName('proj_l_v1', 'category'), /^proj_l_v1_category_[0-9a-f]{8}$/);
  });
});

describe('dedupeWrites', () => {
  it('keeps the highest position per key, sorted by key', () => {
    const result = dedupeWrites([
      { key: 'b', doc: { n: 1 }, position: 1 },
      { key: 'a', doc: { n: 5 }, position: 5 },
      { key: 'b', doc: { n: 3 }, position: 3 },
      { key: 'a', doc: null, position: 4 },
      { key: 'c', doc: null, position: 2 },
    ]);
    assert.deepEqual(result, [
      { key: 'a', doc: { n: 5 }, position: 5 },
      { key: 'b', doc: { n: 3 }, position: 3 },
      { key: 'c', doc: null, position: 2 },
    ]);
  });
});
