/**
 * Dates: ISO-8601 (`strict_date_optional_time`) and epoch millis, as UTC millis; plus the date math ES
 * accepts in range queries (`now-7d/d`, `2024-01-01||+1M`).
 */

const ISO =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/;

/** Parses an ISO-8601 date (no offset means UTC, as in ES) or epoch millis; `undefined` when invalid. */
export function parseDate(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^-?\d+$/.test(text) && !/^\d{4}$/.test(text)) return Number(text);
  const m = ISO.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const month = mo === undefined ? 0 : Number(mo) - 1;
  const day = d === undefined ? 1 : Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (month > 11 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  let utc = Date.UTC(Number(y), month, day, hour, minute, second, millis);
  if (new Date(utc).getUTCDate() !== day) return undefined; // e.g. 2023-02-30
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
    utc -= sign * offset * 60_000;
  }
  return utc;
}

export function formatDate(millis: number): string {
  return new Date(millis).toISOString();
}

type Unit = 'y' | 'M' | 'w' | 'd' | 'h' | 'H' | 'm' | 's';
const UNITS = new Set<string>(['y', 'M', 'w', 'd', 'h', 'H', 'm', 's']);

function add(millis: number, amount: number, unit: Unit): number {
  const date = new Date(millis);
  switch (unit) {
    case 'y':
      date.setUTCFullYear(date.getUTCFullYear() + amount);
      return date.getTime();
    case 'M':
      date.setUTCMonth(date.getUTCMonth() + amount);
      return date.getTime();
    case 'w':
      return millis + amount * 7 * 86_400_000;
    case 'd':
      return millis + amount * 86_400_000;
    case 'h':
    case 'H':
      return millis + amount * 3_600_000;
    case 'm':
      return millis + amount * 60_000;
    case 's':
      return millis + amount * 1000;
  }
}

function roundDown(millis: number, unit: Unit): number {
  const d = new Date(millis);
  switch (unit) {
    case 'y':
      return Date.UTC(d.getUTCFullYear(), 0, 1);
    case 'M':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case 'w': {
      // ES weeks start on Monday.
      const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
    }
    case 'd':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'h':
    case 'H':
      return millis - (((millis % 3_600_000) + 3_600_000) % 3_600_000);
    case 'm':
      return millis - (((millis % 60_000) + 60_000) % 60_000);
    case 's':
      return millis - (((millis % 1000) + 1000) % 1000);
  }
}

/**
 * Resolves a range bound on a date field. `roundUp` (for `gt` and `lte`) makes `/d` mean the last
 * millisecond of the day, as ES does. Returns `undefined` when the expression is not understood.
 */
export function resolveDateMath(value: unknown, now: number, roundUp: boolean): number | undefined {
  if (typeof value === 'number') return parseDate(value);
  if (typeof value !== 'string') return undefined;
  let base: number | undefined;
  let math: string;
  if (value.startsWith('now')) {
    base = now;
    math = value.slice(3);
  } else {
    const at = value.indexOf('||');
    base = parseDate(at < 0 ? value : value.slice(0, at));
    math = at < 0 ? '' : value.slice(at + 2);
  }
  if (base === undefined) return undefined;
  let i = 0;
  while (i < math.length) {
    const op = math[i];
    if (op === '/') {
      const unit = math[i + 1];
      if (unit === undefined || !UNITS.has(unit)) return undefined;
      const down = roundDown(base, unit as Unit);
      base = roundUp ? add(down, 1, unit as Unit) - 1 : down;
      i += 2;
    } else if (op === '+' || op === '-') {
      const m = /^(\d*)([yMwdhHms])/.exec(math.slice(i + 1));
      if (m === null) return undefined;
      const amount = m[1] === '' ? 1 : Number(m[1]);
      base = add(base, op === '+' ? amount : -amount, m[2] as Unit);
      i += 1 + m[0].length;
    } else {
      return undefined;
    }
  }
  return base;
}
