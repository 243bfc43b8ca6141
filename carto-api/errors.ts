// Errors the CARTO client raises: an HTTP status CARTO answered with, or a request that never got an answer.

/** CARTO answered with a non-success status. Messages never carry credentials or signed query strings. */
export class CartoHttpError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    /** Path of the request without its query string (which may hold signatures). */
    readonly endpoint: string,
    /** What CARTO said in its error body, if anything. */
    readonly cartoMessage: string | undefined,
    /** Delay CARTO asked for in `Retry-After`, in milliseconds. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(`${method} ${endpoint} answered ${status}${cartoMessage ? `: ${cartoMessage}` : ''}`);
    this.name = 'CartoHttpError';
  }
}

/** The request failed before a status arrived: connection refused or reset, timeout, truncated body. */
export class CartoNetworkError extends Error {
  constructor(
    readonly method: string,
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`${method} ${endpoint} failed: ${reason}`);
    this.name = 'CartoNetworkError';
  }
}

/** The response arrived but is not what the API documents (malformed JSON, missing fields). */
export class CartoProtocolError extends Error {
  constructor(
    readonly method: string,
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`${method} ${endpoint} returned an unexpected response: ${reason}`);
    this.name = 'CartoProtocolError';
  }
}

/** Parses `Retry-After` (delta-seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
