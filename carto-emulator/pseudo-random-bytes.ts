// A seeded, fast, deterministic byte stream that stands in for a table's GeoPackage data.
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Real exports hold GeoPackages, which are SQLite files; starting with SQLite's magic keeps `file(1)` honest. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\u0000', 'latin1');
const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/**
 * AES-128-CTR over zeros is a keyed PRNG that runs at gigabytes per second with AES-NI, so multi-GiB exports are
 * generated in seconds, and the same seed always yields the same bytes.
 */
export function pseudoRandomGeoPackage(seed: string, size: number): Readable {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  let produced = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const length = Math.min(CHUNK, size - produced);
      const chunk = cipher.update(ZEROS.subarray(0, length));
      if (produced === 0) SQLITE_HEADER.copy(chunk, 0, 0, Math.min(SQLITE_HEADER.length, length));
      produced += length;
      this.push(chunk);
    },
  });
}
