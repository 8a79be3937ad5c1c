/**
 * Analysis settings and analysis mapping parameters on the server side: `settings.analysis.normalizer` in
 * its nested, `index.`-prefixed and flat-dotted forms; ES's errors for bad normalizer definitions and a 400
 * naming what is supported for filters/char filters/analyzers this server does not implement; `normalizer`
 * on keyword fields and multi-fields, `analyzer: standard` on text fields, ES's "unknown parameter" error
 * elsewhere; the "Failed to parse mapping" error shape (root cause = the field's error); unknown normalizer
 * names; PUT _mapping merge rules (normalizer cannot change) and name resolution for the query engine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSettings } from '../src/api/indices';
import {
  checkNormalizers,
  flattenMappings,
  mergeMappings,
  parseMappings,
  validateDocument,
} from '../src/engine/mappings';
import { EsError } from '../src/http/errors';

function esError(fn: () => unknown): EsError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EsError, `expected EsError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an EsError');
}

const FOLDED = { type: 'custom', filter: ['lowercase', 'asciifolding'] };

describe('analysis settings', () => {
  it('reads normalizers in the nested, index-prefixed and flat forms, next to the other settings', () => {
    const expected = { normalizer: { folded: FOLDED } };
    const nested = parseSettings({ number_of_shards: 1, analysis: { normalizer: { folded: FOLDED } } });
    assert.deepEqual(nested.analysis, expected);
    assert.deepEqual(nested.settings, { 'index.number_of_shards': '1' });
    assert.deepEqual(
      parseSettings({ index: { analysis: { normalizer: { folded: FOLDED } } } }).analysis,
      expected,
    );
    assert.deepEqual(
      parseSettings({
        'index.analysis.normalizer.folded.type': 'custom',
        'index.analysis.normalizer.folded.filter': ['lowercase', 'asciifolding'],
      }).analysis,
      expected,
    );
    assert.equal(parseSettings({ number_of_replicas: 0 }).analysis, undefined);
    // A single filter name, no type (ES defaults to custom), an empty char_filter list, a filter-less normalizer.
    assert.deepEqual(
      parseSettings({
        analysis: {
          normalizer: { up: { filter: 'uppercase', char_filter: [] }, same: {}, t: { filter: ['trim'] } },
        },
      }).analysis,
      { normalizer: { up: { filter: 'uppercase', char_filter: [] }, same: {}, t: { filter: ['trim'] } } },
    );
  });

  it('refuses bad or unsupported normalizer definitions with illegal_argument_exception', () => {
    const refuse = (normalizer: unknown, reason: RegExp) => {
      const error = esError(() => parseSettings({ analysis: { normalizer: { n: normalizer } } }));
      assert.equal(error.status, 400);
      assert.equal(error.type, 'illegal_argument_exception');
      assert.match(error.reason, reason);
    };
    refuse({ type: 'pattern' }, /^Unknown normalizer type \[pattern\] for \[n\]$/);
    refuse({ tokenizer: 'keyword' }, /^Custom normalizer \[n\] cannot configure a tokenizer$/);
    refuse(
      { filter: ['lowercase', 'cjk_width'] },
      /filter \[cjk_width\], which this server does not implement \(supported: lowercase, uppercase, asciifolding, trim\)/,
    );
    refuse(
      { filter: ['stemmer'] },
      /may not use filter \[stemmer\] \(supported: lowercase, uppercase, asciifolding, trim\)/,
    );
    refuse(
      { char_filter: ['html_strip'] },
      /may not use char_filter \[html_strip\]: this server supports no char filters/,
    );
    refuse({ filter: [{ type: 'lowercase' }] }, /must be a name or an array of names/);
    refuse({ filter: ['lowercase'], preserve_original: true }, /unsupported parameter \[preserve_original\]/);
  });

  it('refuses analyzers, tokenizers and custom filter definitions, naming what is supported', () => {
    for (const analysis of [
      { analyzer: { mine: { type: 'standard' } } },
      { analyzer: {} },
      { tokenizer: { t: { type: 'whitespace' } } },
      { filter: { f: { type: 'asciifolding', preserve_original: true } } },
      { char_filter: { c: { type: 'html_strip' } } },
    ]) {
      const error = esError(() => parseSettings({ analysis }));
      assert.equal(error.type, 'illegal_argument_exception');
      assert.match(error.reason, /only keyword normalizers are \(index\.analysis\.normalizer\.<name>/);
      assert.match(error.reason, /text fields use the standard analyzer/);
    }
  });
});

describe('analysis parameters in mappings', () => {
  it('keeps normalizer (keyword, multi-fields) and standard analyzers (text) as given', () => {
    const body = {
      properties: {
        city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: 'lowercase' } } },
        code: { type: 'keyword', normalizer: 'folded' },
        title: {
          type: 'text',
          analyzer: 'standard',
          search_analyzer: 'standard',
          search_quote_analyzer: 'standard',
          fields: {
            en: { type: 'text', analyzer: 'standard' },
            key: { type: 'keyword', normalizer: 'folded' },
          },
        },
        plain: { type: 'keyword', normalizer: null },
      },
    };
    const mappings = parseMappings(body);
    assert.deepEqual(mappings.properties, { ...body.properties, plain: { type: 'keyword' } });
    checkNormalizers(mappings, { normalizer: { folded: FOLDED } });
  });

  it('refuses other analyzers on text fields, naming the supported one, in ES error shape', () => {
    for (const param of ['analyzer', 'search_analyzer', 'search_quote_analyzer']) {
      const error = esError(() => parseMappings({ properties: { t: { type: 'text', [param]: 'english' } } }));
      assert.equal(error.type, 'mapper_parsing_exception');
      assert.match(error.reason, /^Failed to parse mapping: /);
      assert.match(error.reason, new RegExp(`${param} \\[english\\] on field \\[t\\] is not supported`));
      assert.match(error.reason, /\[standard\] analyzer only/);
      const body = error.toBody() as { error: { root_cause: Array<{ reason: string }> } };
      assert.equal(body.error.root_cause[0]?.reason, error.causedBy?.reason);
    }
  });

  it('refuses analysis parameters on other field types with ES unknown-parameter error', () => {
    for (const [field, reason] of [
      [
        { type: 'long', normalizer: 'lowercase' },
        'unknown parameter [normalizer] on mapper [f] of type [long]',
      ],
      [
        { type: 'text', normalizer: 'lowercase' },
        'unknown parameter [normalizer] on mapper [f] of type [text]',
      ],
      [
        { type: 'keyword', analyzer: 'standard' },
        'unknown parameter [analyzer] on mapper [f] of type [keyword]',
      ],
      [
        { type: 'date', search_analyzer: 'standard' },
        'unknown parameter [search_analyzer] on mapper [f] of type [date]',
      ],
    ] as const) {
      const error = esError(() => parseMappings({ properties: { f: field } }));
      assert.deepEqual(error.toBody(), {
        error: {
          root_cause: [{ type: 'mapper_parsing_exception', reason }],
          type: 'mapper_parsing_exception',
          reason: `Failed to parse mapping: ${reason}`,
          caused_by: { type: 'mapper_parsing_exception', reason },
        },
        status: 400,
      });
    }
    assert.match(
      esError(() => parseMappings({ properties: { f: { type: 'keyword', normalizer: 1 } } })).reason,
      /\[normalizer\] of field \[f\] must be a string/,
    );
  });

  it('an unknown normalizer name is ES mapper_parsing_exception naming the leaf field', () => {
    const mappings = parseMappings({
      properties: {
        address: {
          properties: {
            city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: 'folded' } } },
          },
        },
      },
    });
    checkNormalizers(mappings, { normalizer: { folded: FOLDED } });
    const reason = 'normalizer [folded] not found for field [norm]';
    const error = esError(() => checkNormalizers(mappings, undefined));
    assert.deepEqual(error.toBody(), {
      error: {
        root_cause: [{ type: 'mapper_parsing_exception', reason }],
        type: 'mapper_parsing_exception',
        reason: `Failed to parse mapping: ${reason}`,
        caused_by: { type: 'mapper_parsing_exception', reason },
      },
      status: 400,
    });
    // The built-in one needs no settings.
    checkNormalizers(
      parseMappings({ properties: { c: { type: 'keyword', normalizer: 'lowercase' } } }),
      undefined,
    );
    assert.throws(
      () => flattenMappings(mappings),
      (e: unknown) => e instanceof EsError,
    );
  });

  it('resolves names to filter chains for the query engine (index definitions before the built-in)', () => {
    const mappings = parseMappings({
      properties: {
        city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: 'lowercase' } } },
        code: { type: 'keyword', normalizer: 'folded' },
        title: { type: 'text', analyzer: 'standard' },
      },
    });
    assert.deepEqual(flattenMappings(mappings, { normalizer: { folded: FOLDED } }).properties, {
      city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: ['lowercase'] } } },
      code: { type: 'keyword', normalizer: ['lowercase', 'asciifolding'] },
      title: { type: 'text' },
    });
    const shadowed = flattenMappings(mappings, {
      normalizer: { folded: FOLDED, lowercase: { filter: ['uppercase'] } },
    });
    assert.deepEqual(shadowed.properties.city?.fields?.norm?.normalizer, ['uppercase']);
  });

  it('PUT _mapping: normalized multi-fields can be added; a normalizer cannot change (ES conflict)', () => {
    const current = parseMappings({
      properties: { city: { type: 'keyword' }, country: { type: 'keyword', normalizer: 'lowercase' } },
    });
    const added = mergeMappings(
      current,
      parseMappings({
        properties: {
          city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: 'lowercase' } } },
        },
      }),
    );
    assert.deepEqual(added.properties.city, {
      type: 'keyword',
      fields: { norm: { type: 'keyword', normalizer: 'lowercase' } },
    });
    // Restating the same mapping is a no-op.
    assert.deepEqual(mergeMappings(added, added), added);
    const conflict = (update: unknown, reason: string) => {
      const error = esError(() => mergeMappings(added, parseMappings(update)));
      assert.equal(error.type, 'illegal_argument_exception');
      assert.equal(error.reason, reason);
    };
    conflict(
      { properties: { country: { type: 'keyword' } } },
      'Mapper for [country] conflicts with existing mapper:\n\tCannot update parameter [normalizer] from [lowercase] to [null]',
    );
    conflict(
      { properties: { city: { type: 'keyword', normalizer: 'lowercase' } } },
      'Mapper for [city] conflicts with existing mapper:\n\tCannot update parameter [normalizer] from [null] to [lowercase]',
    );
    conflict(
      {
        properties: { city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: 'other' } } } },
      },
      'Mapper for [city.norm] conflicts with existing mapper:\n\tCannot update parameter [normalizer] from [lowercase] to [other]',
    );
    conflict(
      { properties: { city: { type: 'keyword', fields: { norm: { type: 'long' } } } } },
      'mapper [city.norm] cannot be changed from type [keyword] to [long]',
    );
  });

  it('documents are validated as before (a normalizer does not change what fits)', () => {
    const mappings = parseMappings({
      properties: {
        city: { type: 'keyword', fields: { norm: { type: 'keyword', normalizer: 'lowercase' } } },
      },
    });
    validateDocument(mappings, { city: ['Berlin', 12, true] }, '1', 'i');
    assert.equal(
      esError(() => validateDocument(mappings, { city: { a: 1 } }, '1', 'i')).type,
      'mapper_parsing_exception',
    );
  });
});
