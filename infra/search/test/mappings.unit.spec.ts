import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAliasActions } from '../src/api/aliases';
import { filterSource, sourceFilterFrom } from '../src/api/common';
import { parseInterval } from '../src/engine/engine';
import { flattenMappings, mergeMappings, parseMappings, validateDocument } from '../src/engine/mappings';
import { EsError } from '../src/http/errors';
import { applyFilterPath } from '../src/http/router';

const throwsEs = (fn: () => unknown, type: string) =>
  assert.throws(fn, (e: unknown) => e instanceof EsError && e.type === type);

describe('mappings', () => {
  const mappings = parseMappings({
    properties: {
      title: { type: 'text', fields: { raw: { type: 'keyword' } } },
      price: { type: 'long' },
      small: { type: 'integer' },
      ratio: { type: 'double' },
      at: { type: 'date' },
      ok: { type: 'boolean' },
      address: { properties: { city: { type: 'keyword' } } },
    },
  });

  it('flattens object fields to dotted paths for the query engine', () => {
    assert.deepEqual(Object.keys(flattenMappings(mappings).properties).sort(), [
      'address.city',
      'at',
      'ok',
      'price',
      'ratio',
      'small',
      'title',
    ]);
    assert.deepEqual(flattenMappings(mappings).properties.title, {
      type: 'text',
      fields: { raw: { type: 'keyword' } },
    });
  });

  it('refuses unknown types and parameters', () => {
    throwsEs(() => parseMappings({ properties: { g: { type: 'geo_point' } } }), 'mapper_parsing_exception');
    throwsEs(
      () => parseMappings({ properties: { t: { type: 'text', analyzer: 'x' } } }),
      'mapper_parsing_exception',
    );
    throwsEs(() => parseMappings({ dynamic: true }), 'mapper_parsing_exception');
    throwsEs(
      () => parseMappings({ properties: { d: { type: 'date', format: 'yyyy' } } }),
      'mapper_parsing_exception',
    );
    assert.equal(parseMappings({ dynamic: 'strict' }).dynamic, 'strict');
  });

  it('accepts values that fit and coerces like ES', () => {
    validateDocument(
      mappings,
      {
        title: 'x',
        price: '12',
        small: 3,
        ratio: 1.5,
        at: '2024-01-02T03:04:05Z',
        ok: 'true',
        address: { city: 'Oslo' },
        other: { anything: [1, 'a'] },
        tags: null,
      },
      '1',
      'i',
    );
    validateDocument(mappings, { at: 1700000000000, price: [1, 2], address: [{ city: 'a' }] }, '1', 'i');
  });

  it('rejects values that do not fit with mapper_parsing_exception', () => {
    for (const doc of [
      { price: 'abc' },
      { small: 2 ** 40 },
      { ratio: 'x' },
      { at: 'yesterday' },
      { ok: 'yes' },
      { title: { a: 1 } },
      { address: 'flat' },
    ]) {
      throwsEs(() => validateDocument(mappings, doc, '1', 'i'), 'mapper_parsing_exception');
    }
    throwsEs(
      () => validateDocument(parseMappings({ dynamic: 'strict', properties: {} }), { x: 1 }, '1', 'i'),
      'strict_dynamic_mapping_exception',
    );
  });

  it('merges new fields and refuses type changes', () => {
    const merged = mergeMappings(mappings, parseMappings({ properties: { extra: { type: 'keyword' } } }));
    assert.equal(merged.properties.extra?.type, 'keyword');
    throwsEs(
      () => mergeMappings(mappings, parseMappings({ properties: { price: { type: 'keyword' } } })),
      'illegal_argument_exception',
    );
  });
});

describe('request helpers', () => {
  it('filter_path keeps only the named paths', () => {
    const body = {
      took: 1,
      hits: { total: { value: 2 }, hits: [{ _id: 'a', _source: { x: 1 } }, { _id: 'b' }] },
    };
    assert.deepEqual(applyFilterPath(body, 'hits.hits._id'), {
      hits: { hits: [{ _id: 'a' }, { _id: 'b' }] },
    });
    assert.deepEqual(applyFilterPath(body, 'took,hits.total.*'), { took: 1, hits: { total: { value: 2 } } });
  });

  it('_source filtering with includes, excludes and wildcards', () => {
    const source = { a: 1, b: { c: 2, d: 3 }, e: 4 };
    const query = new URLSearchParams();
    assert.deepEqual(filterSource(source, sourceFilterFrom(['a', 'b.c'], query)), { a: 1, b: { c: 2 } });
    assert.deepEqual(filterSource(source, sourceFilterFrom({ excludes: ['b'] }, query)), { a: 1, e: 4 });
    assert.deepEqual(filterSource(source, sourceFilterFrom(['b*'], query)), { b: { c: 2, d: 3 } });
    assert.equal(filterSource(source, sourceFilterFrom(false, query)), undefined);
  });

  it('parses alias actions into one action per index and alias', () => {
    assert.deepEqual(
      parseAliasActions({
        actions: [
          { add: { indices: ['a', 'b'], alias: 'x' } },
          { remove: { index: 'c', aliases: ['y'] } },
          { remove_index: { index: 'd' } },
        ],
      }),
      [
        { add: { index: 'a', alias: 'x' } },
        { add: { index: 'b', alias: 'x' } },
        { remove: { index: 'c', alias: 'y', mustExist: true } },
        { removeIndex: { index: 'd' } },
      ],
    );
    throwsEs(
      () => parseAliasActions({ actions: [{ add: { index: 'a', alias: 'x', filter: {} } }] }),
      'illegal_argument_exception',
    );
  });

  it('parses refresh intervals', () => {
    assert.equal(parseInterval('1s'), 1000);
    assert.equal(parseInterval('250ms'), 250);
    assert.equal(parseInterval('-1'), -1);
    throwsEs(() => parseInterval('soon'), 'illegal_argument_exception');
  });
});
