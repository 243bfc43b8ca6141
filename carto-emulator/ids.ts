// Identifiers the emulator hands out: deterministic UUIDs for seeded data, random ones for runtime objects.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** The shape Rails' `uuid_parameter` accepts; anything else is a "Parameter not UUID format" error. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * A UUIDv4-shaped id derived from a hash of `parts`, so two emulators started with the same options list the same
 * users, maps and tables (tests and demos can hard-code or compare them).
 */
export function deterministicUuid(...parts: string[]): string {
  const bytes = createHash('sha256').update(parts.join('\u0000')).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Exports, imports and restored maps get fresh random UUIDs, as on the real server. */
export function randomId(): string {
  return randomUUID();
}

/** CARTO's upload directories are named by the first 20 hex digits of a SHA-2 digest. */
export function uploadToken(): string {
  return randomBytes(10).toString('hex');
}
