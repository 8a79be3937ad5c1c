/**
 * Keyword normalizers: the token filters of an ES normalizer, applied to the whole keyword (a normalizer never
 * splits it). Each follows the Lucene filter ES uses:
 *
 * - `lowercase` / `uppercase`: Lucene maps every code point with Java's Character.toLowerCase/toUpperCase,
 *   i.e. Unicode's SIMPLE case mapping. JS's toLowerCase/toUpperCase apply the FULL mapping (`ß` → `SS`,
 *   `İ` → `i̇`, a word-final `Σ` → `ς`), so the code points where the two differ are mapped explicitly.
 * - `asciifolding`: an approximation of Lucene's ASCIIFoldingFilter (see `foldChar`).
 * - `trim`: Lucene's TrimFilter strips Java `Character.isWhitespace` characters at both ends (not NBSP).
 */
import type { NormalizerFilter } from '../engine/contracts';

export type Normalize = (value: string) => string;

/** The two code points whose full lower-case mapping differs from the simple one. */
const LOWER_SPECIAL = /[\u0130\u03a3]/;
const LOWER_SPECIAL_ALL = /[\u0130\u03a3]/g;

export function lowercase(value: string): string {
  if (!LOWER_SPECIAL.test(value)) return value.toLowerCase();
  // Simple mapping: İ → i (full: i + U+0307), Σ → σ everywhere (full: ς at the end of a word).
  return value.replace(LOWER_SPECIAL_ALL, (c) => (c === '\u0130' ? 'i' : '\u03c3')).toLowerCase();
}

/**
 * Simple upper-case mappings of the code points whose full mapping has several code points (Greek with
 * ypogegrammeni); every other such code point (ß, ŉ, ﬁ, ...) has no simple mapping and stays as it is.
 */
function simpleUpperOfMultiMapped(cp: number): number {
  if (cp >= 0x1f80 && cp <= 0x1fa7 && (cp & 0xf) < 8) return cp + 8;
  if (cp === 0x1fb3 || cp === 0x1fc3 || cp === 0x1ff3) return cp + 9;
  return cp;
}

export function uppercase(value: string): string {
  const upper = value.toUpperCase();
  // Simple mappings never change a code point's UTF-16 length, full multi-code-point mappings grow it: equal
  // lengths mean every code point was mapped one-to-one, i.e. exactly as Java does.
  if (upper.length === value.length) return upper;
  let out = '';
  for (const ch of value) {
    const mapped = ch.toUpperCase();
    out +=
      mapped.length === ch.length
        ? mapped
        : String.fromCodePoint(simpleUpperOfMultiMapped(ch.codePointAt(0) as number));
  }
  return out;
}

/** Latin letters without a Unicode decomposition, and typographic punctuation, with their ASCII folding. */
const SPECIAL_FOLDS: Readonly<Record<string, string>> = {
  Æ: 'AE',
  æ: 'ae',
  Ð: 'D',
  ð: 'd',
  Ø: 'O',
  ø: 'o',
  Þ: 'TH',
  þ: 'th',
  ß: 'ss',
  ẞ: 'SS',
  Đ: 'D',
  đ: 'd',
  Ħ: 'H',
  ħ: 'h',
  ı: 'i',
  ĸ: 'q',
  Ŀ: 'L',
  ŀ: 'l',
  Ł: 'L',
  ł: 'l',
  ŉ: "'n",
  Ŋ: 'N',
  ŋ: 'n',
  Œ: 'OE',
  œ: 'oe',
  Ŧ: 'T',
  ŧ: 't',
  ƀ: 'b',
  Ɓ: 'B',
  ƒ: 'f',
  Ɨ: 'I',
  ɨ: 'i',
  Ƶ: 'Z',
  ƶ: 'z',
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u2032': "'",
  '\u2039': "'",
  '\u203a': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u201f': '"',
  '\u2033': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
};
function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}
const MARKS = /\p{M}/gu;
/** Characters whose compatibility decomposition is folded: Latin letters, numbers, fullwidth ASCII. */
const DECOMPOSABLE = /[\p{Script=Latin}\p{N}\uff01-\uff5e]/u;

/**
 * One character's ASCII folding: the table above, else its compatibility decomposition without combining
 * marks when that is all ASCII (`é` → `e`, `ǆ` → `dz`, `ﬁ` → `fi`, `²` → `2`, `①` → `1`, fullwidth `Ａ` →
 * `A`), else the character itself. Like Lucene, only the Basic Multilingual Plane is folded and non-Latin
 * letters are kept (`й` stays `й`). Lucene's table also folds some symbols this leaves alone (e.g. `Ⓐ`).
 */
function foldChar(ch: string): string {
  const special = SPECIAL_FOLDS[ch];
  if (special !== undefined) return special;
  if (ch.length > 1 || !DECOMPOSABLE.test(ch)) return ch;
  const base = ch.normalize('NFKD').replace(MARKS, '');
  return base !== '' && isAscii(base) ? base : ch;
}

export function asciifolding(value: string): string {
  if (isAscii(value)) return value;
  let out = '';
  for (const ch of value) out += foldChar(ch);
  return out;
}

/** Java's Character.isWhitespace: Unicode separators except the no-break ones, plus U+0009-U+000D and U+001C-U+001F. */
function isJavaWhitespace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    (c >= 0x1c && c <= 0x20) ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a && c !== 0x2007) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x205f ||
    c === 0x3000
  );
}

export function trim(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isJavaWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isJavaWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

const FILTERS: Readonly<Record<NormalizerFilter, Normalize>> = { lowercase, uppercase, asciifolding, trim };

/** The filter chain as one function (filters apply in order, as in an ES custom normalizer). */
export function compileNormalizer(filters: readonly NormalizerFilter[]): Normalize {
  const chain = filters.map((name) => FILTERS[name]);
  if (chain.length === 1) return chain[0] as Normalize;
  return (value) => {
    let out = value;
    for (const filter of chain) out = filter(out);
    return out;
  };
}
