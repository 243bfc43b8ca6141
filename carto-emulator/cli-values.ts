// Parses the CLI's human-friendly sizes (`5MiB`, `500KB`, bytes) and durations (`10s`, `2h`, milliseconds).
import ms from 'ms';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Bytes from `5MiB`, `1GiB`, `500KB` (decimal units are powers of 1000, binary ones of 1024) or a plain number. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined)
    throw new Error(`expected a size such as 5MiB, 500KB or 1048576, got "${text}"`);
  return Math.round(Number(match[1]) * unit);
}

/** Milliseconds from an `ms`-style duration (`10s`, `1.5m`, `2h`) or a plain number of milliseconds. */
export function parseDuration(text: string): number {
  const value = ms(text.trim() as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`expected a duration such as 300ms, 10s or 2h, got "${text}"`);
  }
  return Math.round(value);
}
