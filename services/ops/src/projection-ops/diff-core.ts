/**
 * The pure part of `tidemark diff`: field-level differences between two documents, and whether two versions'
 * lookups of a key can be compared at all (both must show the key as of the same log position) or are still
 * moving. No I/O here: ProjectionOps loads, this decides.
 */
import type { Lookup, ProjectionDocument } from '@tidemark/projection-runtime';

/** One field that differs: `path` is dotted (`location.city`), array items are `[i]`; `$` is the whole value. */
export interface FieldDifference {
  path: string;
  /** Absent from the JSON output when the field is missing on that side. */
  a?: unknown;
  b?: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Every leaf where `a` and `b` differ, in key order. A field set to undefined counts as missing (JSON drops
 * it). Objects and arrays are compared member by member; anything else by value.
 */
export function fieldDifferences(a: unknown, b: unknown, path = ''): FieldDifference[] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => fieldDifferences(a[key], b[key], join(path, key)));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: FieldDifference[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      out.push(...fieldDifferences(a[i], b[i], `${path === '' ? '$' : path}[${i}]`));
    }
    return out;
  }
  if (a === b) return [];
  return [
    {
      path: path === '' ? '$' : path,
      ...(a === undefined ? {} : { a }),
      ...(b === undefined ? {} : { b }),
    },
  ];
}

/** One version's view of a key: its lookup, and that version's partition checkpoint read just before the load. */
export interface DiffSide {
  lookup: Lookup | undefined;
  checkpoint: number;
}

export type PairOutcome =
  | { kind: 'equal' }
  | { kind: 'differ'; differences: FieldDifference[] }
  | { kind: 'onlyInA'; differences: FieldDifference[] }
  | { kind: 'onlyInB'; differences: FieldDifference[] }
  /** A cache store lost the document (an eviction): nothing can be said. */
  | { kind: 'unknown' }
  /** The two sides show the key at different log positions (one version moved on): reload and retry. */
  | { kind: 'moving' };

/**
 * The log positions a side's lookup may stand for. A document (or tombstone) written at `position` is the
 * key's state from `position` up to at least the checkpoint read before the load (nothing touching the key was
 * applied in between, or the position would be higher). A key never written is "no document" at every
 * position up to that checkpoint. Both are intervals; two sides compare when their intervals meet.
 */
export function positionRange(side: DiffSide): { from: number; to: number } | null {
  const { lookup } = side;
  if (lookup === 'unknown') return null;
  if (lookup === undefined || lookup === 'absent') return { from: 0, to: side.checkpoint };
  return { from: lookup.position, to: Math.max(lookup.position, side.checkpoint) };
}

function documentOf(lookup: Lookup | undefined): ProjectionDocument | null {
  if (lookup === undefined || lookup === 'absent' || lookup === 'unknown') return null;
  return lookup.doc;
}

/** Compares two versions' lookups of one key in one partition. */
export function comparePair(a: DiffSide, b: DiffSide): PairOutcome {
  const rangeA = positionRange(a);
  const rangeB = positionRange(b);
  if (rangeA === null || rangeB === null) return { kind: 'unknown' };
  if (Math.max(rangeA.from, rangeB.from) > Math.min(rangeA.to, rangeB.to)) return { kind: 'moving' };
  const docA = documentOf(a.lookup);
  const docB = documentOf(b.lookup);
  if (docA === null && docB === null) return { kind: 'equal' };
  if (docB === null) return { kind: 'onlyInA', differences: [{ path: '$', a: docA, b: null }] };
  if (docA === null) return { kind: 'onlyInB', differences: [{ path: '$', a: null, b: docB }] };
  const differences = fieldDifferences(docA, docB);
  return differences.length === 0 ? { kind: 'equal' } : { kind: 'differ', differences };
}

/** Whether a side holds a document (not a tombstone, not absent, not unknown). */
export function isPresent(lookup: Lookup | undefined): boolean {
  return lookup !== undefined && lookup !== 'absent' && lookup !== 'unknown' && lookup.doc !== null;
}

export interface DiffSampleEntry {
  key: string;
  partition: number;
  /** What kind of difference: both hold a document that differs, or only one side holds one. */
  kind: 'differ' | 'onlyInA' | 'onlyInB';
  differences: FieldDifference[];
}

export interface DiffResult {
  context: string;
  projection: string;
  a: number;
  b: number;
  /** The common watermark compared at: per partition, the lower of the two versions' checkpoints. */
  watermark: Record<string, number>;
  /** Documents present (not tombstones) in each version, over the keys compared. */
  counts: { a: number; b: number };
  /** Keys compared (at a common position). */
  compared: number;
  equal: number;
  /** Keys whose documents exist in both and differ. */
  differing: number;
  onlyInA: number;
  onlyInB: number;
  unknown: number;
  moving: number;
  /** The first differing keys (differ, onlyInA or onlyInB), with their field-level differences. */
  sample: DiffSampleEntry[];
}

/** Sums pair outcomes into a DiffResult (without the identification fields). */
export class DiffTally {
  readonly counts = { a: 0, b: 0 };
  compared = 0;
  equal = 0;
  differing = 0;
  onlyInA = 0;
  onlyInB = 0;
  unknown = 0;
  moving = 0;
  readonly sample: DiffSampleEntry[] = [];

  constructor(private readonly sampleSize: number) {}

  add(partition: number, key: string, a: DiffSide, b: DiffSide, outcome: PairOutcome): void {
    if (isPresent(a.lookup)) this.counts.a++;
    if (isPresent(b.lookup)) this.counts.b++;
    switch (outcome.kind) {
      case 'unknown':
        this.unknown++;
        return;
      case 'moving':
        this.moving++;
        return;
      case 'equal':
        this.compared++;
        this.equal++;
        return;
      case 'differ':
        this.differing++;
        break;
      case 'onlyInA':
        this.onlyInA++;
        break;
      case 'onlyInB':
        this.onlyInB++;
        break;
    }
    this.compared++;
    if (this.sample.length < this.sampleSize) {
      this.sample.push({ key, partition, kind: outcome.kind, differences: outcome.differences });
    }
  }

  /** Whether the versions differ: a differing document, or one only one version has. */
  get differs(): boolean {
    return this.differing + this.onlyInA + this.onlyInB > 0;
  }
}
