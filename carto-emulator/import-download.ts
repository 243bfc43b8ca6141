// Downloads an import's `url` to disk and classifies failures the way CARTO's Downloader does.
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export type DownloadResult =
  | { ok: true; path: string; filename: string; contentType: string | undefined; httpStatus: string }
  | { ok: false; errorCode: number; httpStatus?: string };

const MAX_REDIRECTS = 5;

/**
 * GETs `url` (following redirects, as Typhoeus does) into `directory`. Like the server in dev/test mode, any host and
 * port is allowed, loopback included: the emulator is pointed at a local S3. Error codes follow the Downloader:
 * 401 → 1101, 404 → 1100, other statuses → 1001, an unresolvable host → 1102, a short body → 1103.
 */
export async function downloadToDirectory(
  url: string,
  directory: string,
  signal: AbortSignal,
): Promise<DownloadResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, errorCode: 1001 };
  }
  for (let redirects = 0; ; redirects += 1) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return { ok: false, errorCode: 1001 };
    let response: IncomingMessage;
    try {
      response = await get(target, signal);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { ok: false, errorCode: code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 1102 : 1001 };
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location && redirects < MAX_REDIRECTS) {
      response.resume();
      target = new URL(location, target);
      continue;
    }
    if (status < 200 || status >= 300) {
      response.resume();
      const errorCode = status === 401 ? 1101 : status === 404 ? 1100 : 1001;
      return { ok: false, errorCode, httpStatus: String(status) };
    }
    const filename = responseFilename(response, target);
    await mkdir(directory, { recursive: true });
    const path = join(directory, filename);
    const expected = Number(response.headers['content-length'] ?? NaN);
    let received = 0;
    response.on('data', (chunk: Buffer) => (received += chunk.length));
    try {
      await pipeline(response, createWriteStream(path), { signal });
    } catch {
      await rm(path, { force: true });
      return { ok: false, errorCode: 1103, httpStatus: String(status) };
    }
    if (!Number.isNaN(expected) && received !== expected) {
      await rm(path, { force: true });
      return { ok: false, errorCode: 1103, httpStatus: String(status) };
    }
    return {
      ok: true,
      path,
      filename,
      contentType: response.headers['content-type'],
      httpStatus: String(status),
    };
  }
}

function get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: 'GET', signal },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
}

/** The name the server gives the download: Content-Disposition's, else the last path segment of the URL. */
function responseFilename(response: IncomingMessage, url: URL): string {
  const disposition = response.headers['content-disposition'] ?? '';
  const extended = /filename\*\s*=\s*[^']*'[^']*'([^;]+)/i.exec(disposition);
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  let name = extended?.[1] ?? plain?.[1] ?? basename(url.pathname);
  try {
    name = decodeURIComponent(name);
  } catch {
    // A name with stray % signs is kept as sent.
  }
  return basename(name.replace(/\\/g, '/')).replace(/ /g, '_') || 'download';
}
