// The response shapes CARTO's Rails app produces: JSON(P) bodies, empty heads, CartoError and routing 404s.
import type { ServerResponse } from 'node:http';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Rails `render json:`; pass a `callback` to get `render_jsonp`'s JavaScript wrapper. */
export function sendJson(res: ServerResponse, status: number, body: unknown, callback?: string): void {
  const json = JSON.stringify(body);
  if (callback !== undefined) {
    sendBody(res, status, 'text/javascript; charset=utf-8', `/**/${callback}(${json})`);
    return;
  }
  sendBody(res, status, JSON_TYPE, json);
}

/** Rails `head :status`: a status with an empty body (401 of the Import API, 404 of import show). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': '0' });
  res.end();
}

/** `rescue_from_carto_error`: `{"errors": "<message>", "errors_cause": null}` with the error class's status. */
export function sendCartoError(
  res: ServerResponse,
  status: number,
  message: string,
  cause: string | null = null,
): void {
  sendJson(res, status, { errors: message, errors_cause: cause });
}

/** What Rails' public exceptions app renders for an unknown route or user when JSON was asked for. */
export function sendRoutingNotFound(res: ServerResponse): void {
  sendJson(res, 404, { status: 404, error: 'Not Found' });
}

/** `render_jsonp` refuses callbacks that are not plain JavaScript identifiers. */
function jsonpCallback(value: unknown): { ok: true; callback?: string } | { ok: false } {
  if (value === undefined || value === null) return { ok: true };
  if (typeof value === 'string' && /^[$a-z_][0-9a-z_$]*$/i.test(value)) return { ok: true, callback: value };
  return { ok: false };
}

/** `render_jsonp(body, status)`, including its 400 for a malformed callback. */
export function sendJsonp(res: ServerResponse, status: number, body: unknown, callbackParam: unknown): void {
  const callback = jsonpCallback(callbackParam);
  if (!callback.ok) {
    sendJson(res, 400, { errors: { callback: 'Invalid callback format' } });
    return;
  }
  sendJson(res, status, body, callback.callback);
}

/** An S3-style XML error, as the object store behind a pre-signed URL answers. */
export function sendS3Error(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
): void {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
    `<Resource>${escapeXml(resource)}</Resource><RequestId>${Date.now().toString(16).toUpperCase()}</RequestId></Error>`;
  sendBody(res, status, 'application/xml', xml);
}

/** A complete body with its Content-Length (none sent to HEAD), plus any extra headers. */
export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(bytes.length) });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
