// Serves a finished export file like S3 or Rails' send_file: validators, single byte ranges and conditional requests.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

export interface ServedFile {
  path: string;
  size: number;
  etag: string;
  lastModified: Date;
  contentDisposition: string;
}

type ByteRange = { start: number; end: number };

/** What one response delivered. */
export interface FileDelivery {
  status: number;
  start: number;
  bytesSent: number;
}

/**
 * Answers GET/HEAD for `file`. A single `bytes=a-b`, `a-` or `-n` range gets 206 (416 when it starts past the end);
 * `If-Range` with a stale ETag or date sends the whole file, so a resumed download never mixes two versions.
 */
export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: ServedFile,
): Promise<FileDelivery> {
  const headers: Record<string, string> = {
    'content-type': 'application/zip',
    'accept-ranges': 'bytes',
    etag: file.etag,
    'last-modified': file.lastModified.toUTCString(),
    'content-disposition': file.contentDisposition,
  };
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === file.etag || tag.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return { status: 304, start: 0, bytesSent: 0 };
  }
  const range = rangeToServe(req, file);
  if (range === 'unsatisfiable') {
    res.writeHead(416, {
      ...headers,
      'content-range': `bytes */${file.size}`,
      'content-type': 'application/xml',
      'content-length': '0',
    });
    res.end();
    return { status: 416, start: 0, bytesSent: 0 };
  }
  const { start, end } = range ?? { start: 0, end: file.size - 1 };
  const length = Math.max(0, end - start + 1);
  headers['content-length'] = String(length);
  if (range) headers['content-range'] = `bytes ${start}-${end}/${file.size}`;
  const status = range ? 206 : 200;
  res.writeHead(status, headers);
  const delivery = { status, start, bytesSent: 0 };
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return delivery;
  }
  const source = createReadStream(file.path, { start, end });
  source.on('data', (chunk) => (delivery.bytesSent += chunk.length));
  try {
    await pipeline(source, res);
  } catch {
    // The client went away mid-body; nothing is left to answer.
    res.destroy();
  }
  return delivery;
}

function rangeToServe(req: IncomingMessage, file: ServedFile): ByteRange | 'unsatisfiable' | undefined {
  const header = req.headers.range;
  if (!header) return undefined;
  const ifRange = req.headers['if-range'];
  if (typeof ifRange === 'string' && !ifRangeHolds(ifRange, file)) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multiple ranges and malformed headers are ignored, as RFC 9110 allows: the whole file is sent.
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, file.size - suffix), end: file.size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? file.size - 1 : Math.min(Number(match[2]), file.size - 1);
  if (start >= file.size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}

function ifRangeHolds(value: string, file: ServedFile): boolean {
  const trimmed = value.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return trimmed === file.etag;
  const date = Date.parse(trimmed);
  return !Number.isNaN(date) && Math.floor(file.lastModified.getTime() / 1000) * 1000 === date;
}
