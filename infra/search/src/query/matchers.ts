/**
 * Executable query nodes. A Matcher can enumerate its docs (`docs`, with `cost` an upper bound of how
 * many), test one doc (`has`) and score a doc it matches. Conjunctions enumerate their cheapest required
 * clause and test the others, so a selective filter never scans the whole index.
 */

export interface Matcher {
  readonly cost: number;
  docs(): Iterable<number>;
  has(doc: number): boolean;
  /** Only called for docs where `has` is true. */
  score(doc: number): number;
}

export const EMPTY: Matcher = {
  cost: 0,
  docs: () => [],
  has: () => false,
  score: () => 0,
};

export function setMatcher(docs: ReadonlySet<number> | undefined, score: number): Matcher {
  if (docs === undefined || docs.size === 0) return EMPTY;
  return { cost: docs.size, docs: () => docs, has: (d) => docs.has(d), score: () => score };
}

export function scoredMatcher(scores: ReadonlyMap<number, number>, boost: number): Matcher {
  if (scores.size === 0) return EMPTY;
  return {
    cost: scores.size,
    docs: () => scores.keys(),
    has: (d) => scores.has(d),
    score: (d) => (scores.get(d) ?? 0) * boost,
  };
}

export function predicateMatcher(
  cost: number,
  docs: () => Iterable<number>,
  has: (doc: number) => boolean,
  score: number,
): Matcher {
  if (cost === 0) return EMPTY;
  return { cost, docs, has, score: () => score };
}

export function withConstantScore(inner: Matcher, score: number): Matcher {
  if (inner === EMPTY) return EMPTY;
  return { cost: inner.cost, docs: () => inner.docs(), has: (d) => inner.has(d), score: () => score };
}

function* union(matchers: readonly Matcher[]): Generator<number> {
  if (matchers.length === 1) {
    yield* (matchers[0] as Matcher).docs();
    return;
  }
  const seen = new Set<number>();
  for (const m of matchers) {
    for (const d of m.docs()) {
      if (seen.has(d)) continue;
      seen.add(d);
      yield d;
    }
  }
}

/** dis_max: the best clause's score plus tie_breaker times the others'. Also multi_match best_fields. */
export function disMax(queries: readonly Matcher[], tieBreaker: number, boost: number): Matcher {
  const live = queries.filter((q) => q !== EMPTY);
  if (live.length === 0) return EMPTY;
  return {
    cost: live.reduce((n, q) => n + q.cost, 0),
    docs: () => union(live),
    has: (d) => live.some((q) => q.has(d)),
    score: (d) => {
      let max = 0;
      let sum = 0;
      for (const q of live) {
        if (!q.has(d)) continue;
        const s = q.score(d);
        sum += s;
        if (s > max) max = s;
      }
      return (max + tieBreaker * (sum - max)) * boost;
    },
  };
}

export interface BoolClauses {
  must: Matcher[];
  filter: Matcher[];
  should: Matcher[];
  mustNot: Matcher[];
  minimumShouldMatch: number;
  boost: number;
}

/**
 * Lucene BooleanQuery semantics. Without required clauses at least one should clause must match (even
 * with minimum_should_match 0); with none at all (pure negation, empty bool) every doc of `all` matches.
 */
export function boolMatcher(c: BoolClauses, all: Matcher): Matcher {
  const required = [...c.must, ...c.filter];
  if (required.some((m) => m === EMPTY)) return EMPTY;
  const should = c.should.filter((m) => m !== EMPTY);
  const msm =
    required.length === 0 && c.should.length > 0 ? Math.max(1, c.minimumShouldMatch) : c.minimumShouldMatch;
  if (msm > should.length) return EMPTY;
  const mustNot = c.mustNot.filter((m) => m !== EMPTY);

  let lead: Matcher[];
  if (required.length > 0) lead = [required.reduce((a, b) => (b.cost < a.cost ? b : a))];
  else if (msm > 0) lead = should;
  else lead = [all];
  const checks = required.length > 0 ? required.filter((m) => m !== lead[0]) : [];
  // Everything but the lead; a doc enumerated from the lead only needs these.
  const rest = (d: number): boolean => {
    for (const m of checks) if (!m.has(d)) return false;
    for (const m of mustNot) if (m.has(d)) return false;
    if (msm === 0) return true;
    let count = 0;
    for (const s of should) if (s.has(d) && ++count >= msm) return true;
    return false;
  };
  const leadHas = (d: number): boolean => lead.length > 1 || (lead[0] as Matcher).has(d);
  return {
    cost: lead.reduce((n, m) => n + m.cost, 0),
    docs: function* () {
      for (const d of union(lead)) if (rest(d)) yield d;
    },
    has: (d) => leadHas(d) && rest(d),
    score: (d) => {
      let s = 0;
      for (const m of c.must) s += m.score(d);
      for (const m of should) if (m.has(d)) s += m.score(d);
      return s * c.boost;
    },
  };
}
