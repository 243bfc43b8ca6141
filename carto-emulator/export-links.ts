// The `url` of a complete export in each of CARTO's three storage setups, and the checks of the pre-signed form.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { exportFilename, type ExportJob } from './export-jobs';

/** Section 1.5 forms: 1 = S3 pre-signed (absolute), 2 = local `/uploads/` (relative), 3 = API download (relative). */
export type UrlStyle = 'presigned' | 'uploads' | 'download';

export type PresignedCheck = 'valid' | 'unsigned' | 'bad-signature' | 'expired';

const SIGNED_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'response-content-disposition',
];

export class ExportLinks {
  readonly #style: UrlStyle;
  readonly #ttl: number;
  readonly #secret: Buffer;
  readonly #origin: () => string;

  constructor(options: { style: UrlStyle; ttl: number; secret: Buffer; origin: () => string }) {
    this.#style = options.style;
    this.#ttl = options.ttl;
    this.#secret = options.secret;
    this.#origin = options.origin;
  }

  /** The url the presenter shows once the job completed at `completedAt`. */
  urlFor(job: ExportJob, completedAt: number): string {
    const filename = exportFilename(job.mapName, completedAt);
    if (this.#style === 'download') return `/api/v3/visualization_exports/${job.id}/download`;
    // CARTO stores the local path as is, spaces included; clients must encode it when they resolve it.
    if (this.#style === 'uploads') return `/uploads/${job.token}/${filename}`;
    const date = amzDate(completedAt);
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `EMULATORACCESSKEY/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
      'X-Amz-Date': date,
      'X-Amz-Expires': String(Math.max(1, Math.ceil(this.#ttl / 1000))),
      'X-Amz-SignedHeaders': 'host',
      'response-content-disposition': contentDisposition(filename),
    });
    query.set('X-Amz-Signature', this.#sign(job.token, filename, query));
    const path = `/exports-storage/${job.token}/${encodeRfc3986(filename)}`;
    return `${this.#origin()}${path}?${query.toString().replace(/\+/g, '%20')}`;
  }

  /** S3's view of a GET on a pre-signed URL: signature first, then the expiry window from X-Amz-Date. */
  check(token: string, filename: string, query: URLSearchParams, now: number): PresignedCheck {
    const signature = query.get('X-Amz-Signature');
    if (!signature || SIGNED_PARAMS.some((name) => !query.has(name))) return 'unsigned';
    const expected = Buffer.from(this.#sign(token, filename, query));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad-signature';
    const signedAt = parseAmzDate(query.get('X-Amz-Date') ?? '');
    const expires = Number(query.get('X-Amz-Expires'));
    if (Number.isNaN(signedAt) || !Number.isFinite(expires) || now >= signedAt + expires * 1000)
      return 'expired';
    return 'valid';
  }

  /** Signs decoded values, so clients that re-encode the path or query differently still verify. */
  #sign(token: string, filename: string, query: URLSearchParams): string {
    const canonical = SIGNED_PARAMS.map((name) => `${name}=${query.get(name) ?? ''}`).join('\n');
    return createHmac('sha256', this.#secret)
      .update(`GET\n/exports-storage/${token}/${filename}\n${canonical}`)
      .digest('hex');
  }
}

/**
 * CARTO's exporter header: both names percent-encoded (`URI.encode` of everything but unreserved characters),
 * `attachment;filename="<name>";filename*=utf-8''<name>`.
 */
export function contentDisposition(filename: string): string {
  const encoded = encodeRfc3986(filename);
  return `attachment;filename="${encoded}";filename*=utf-8''${encoded}`;
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `YYYYMMDDTHHMMSSZ`: S3 signs with whole seconds, so the validity window starts at the truncated second. */
function amzDate(at: number): string {
  return new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function parseAmzDate(value: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return Number.NaN;
  const [, year, month, day, hour, minute, second] = match.map(Number);
  return Date.UTC(year, month - 1, day, hour, minute, second);
}
