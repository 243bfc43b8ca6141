// Rails-style request parameters: the query string merged with a JSON or form body, body values winning.
import type { IncomingMessage } from 'node:http';

/** Query and form values are strings; JSON bodies can carry booleans, numbers and objects, which CARTO treats apart. */
export type Params = Map<string, unknown>;

/** Parameter bodies are small; anything bigger is not a parameter body and is drained unread. */
const MAX_PARAMS_BODY = 1024 * 1024;

export function queryParams(rawUrl: string): Params {
  const params: Params = new Map();
  const search = new URL(rawUrl, 'http://emulator.invalid').searchParams;
  // Rails keeps the last value of a repeated plain key.
  for (const [key, value] of search) params.set(key, value);
  return params;
}

/** Reads a JSON or url-encoded body into params; other bodies are drained so the connection stays usable. */
export async function readParamsBody(req: IncomingMessage, into: Params): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const parseable = type === 'application/json' || type === 'application/x-www-form-urlencoded';
  const length = Number(req.headers['content-length'] ?? NaN);
  if (!parseable || length > MAX_PARAMS_BODY) {
    req.resume();
    await new Promise<void>((resolve) => {
      if (req.readableEnded) resolve();
      req.once('end', resolve);
      req.once('close', resolve);
    });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PARAMS_BODY) continue;
    chunks.push(chunk as Buffer);
  }
  if (size > MAX_PARAMS_BODY) return;
  mergeBody(type, Buffer.concat(chunks).toString('utf8'), into);
}

export function mergeBody(type: string, text: string, into: Params): void {
  if (text.trim() === '') return;
  if (type === 'application/json') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // Rails answers unparseable JSON with 400 before the controller; the emulator just ignores the body.
      return;
    }
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      for (const [key, value] of Object.entries(body)) into.set(key, value);
    }
    return;
  }
  for (const [key, value] of new URLSearchParams(text)) into.set(key, value);
}

/** The value as a string when it is one (query, form, or a JSON string); undefined otherwise. */
export function stringParam(params: Params, key: string): string | undefined {
  const value = params.get(key);
  return typeof value === 'string' ? value : undefined;
}

/** Ruby's `present?`: not nil, and not a blank string. */
export function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Ruby's `String#to_i`: the leading integer, 0 when there is none. */
export function rubyToInt(value: unknown): number {
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value !== 'string') return 0;
  const match = /^\s*([+-]?\d+)/.exec(value);
  return match ? Number(match[1]) : 0;
}
