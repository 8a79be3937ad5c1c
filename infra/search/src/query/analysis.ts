/**
 * Text analysis for `text` fields: an approximation of ES's `standard` analyzer.
 *
 * Tokens are maximal runs of Unicode letters, combining marks and digits, lower-cased. No stemming and no
 * stop words (the ES standard analyzer has neither). Differences from UAX#29 word segmentation: `don't`
 * becomes `don` + `t`, `3.5` becomes `3` + `5`, and CJK text is not split per ideograph.
 */

const TOKEN = /[\p{L}\p{M}\p{N}]+/gu;
/** ES's standard tokenizer splits tokens longer than this. */
const MAX_TOKEN_LENGTH = 255;

export function analyze(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(TOKEN)) {
    const token = match[0];
    if (token.length <= MAX_TOKEN_LENGTH) out.push(token);
    else
      for (let i = 0; i < token.length; i += MAX_TOKEN_LENGTH) out.push(token.slice(i, i + MAX_TOKEN_LENGTH));
  }
  return out;
}

/** Separates a token from the occurrence suffix added by `tokenizeForIndex`. */
const OCCURRENCE = '\u0000';

/**
 * minisearch takes a field's length to be its number of DISTINCT raw tokens, while Lucene's BM25 uses the
 * number of tokens. Making repeated tokens distinct (`bike`, `bike\0 1`) before minisearch counts them,
 * and stripping the suffix again in `stripOccurrence` (its processTerm), gives Lucene's field length while
 * term frequencies stay correct.
 */
export function tokenizeForIndex(text: string): string[] {
  const tokens = analyze(text);
  const seen = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (seen.has(token)) tokens[i] = `${token}${OCCURRENCE}${i}`;
    else seen.add(token);
  }
  return tokens;
}

export function stripOccurrence(term: string): string {
  const at = term.indexOf(OCCURRENCE);
  return at < 0 ? term : term.slice(0, at);
}
