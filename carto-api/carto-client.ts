// HTTP client for the CARTO Visualization Export API (v3), Import API (v1) and map listing; knows nothing of Temporal.
import { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { parseAccountUrl } from './account-url';
import { CartoHttpError, CartoNetworkError, CartoProtocolError, parseRetryAfter } from './errors';
import type { DataImport, ImportOptions, VisualizationExport, VisualizationSummary } from './types';

export interface CartoClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Time allowed for response headers, and between body chunks. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  userAgent?: string;
}

export interface CartoDownload {
  body: Readable;
  status: number;
  /** Bytes the body will carry, when the server says. */
  contentLength: number | undefined;
  etag: string | undefined;
  lastModified: string | undefined;
  acceptRanges: boolean;
  /** For a 206: which bytes the body carries and the file's full size (`null` when the server does not know it). */
  contentRange: { start: number; end: number; total: number | null } | undefined;
}

type Method = 'GET' | 'POST';

export class CartoClient {
  readonly baseUrl: string;
  readonly username: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #userAgent: string;

  constructor(options: CartoClientOptions) {
    const account = parseAccountUrl(options.baseUrl);
    this.baseUrl = account.baseUrl;
    this.username = account.username;
    // Basic auth rather than ?api_key=: the key then never appears in URLs, which end up in logs and error messages.
    this.#authorization = `Basic ${Buffer.from(`${account.username}:${options.apiKey}`).toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#dispatcher = options.dispatcher;
    this.#userAgent = options.userAgent ?? 'carto-ferry';
  }

  /** POST /api/v3/visualization_exports; CARTO answers 201 with the export in state `pending`. */
  async createVisualizationExport(
    visualizationId: string,
    userTablesIds?: string[],
  ): Promise<VisualizationExport> {
    const body: Record<string, string> = { visualization_id: visualizationId };
    if (userTablesIds?.length) body.user_tables_ids = userTablesIds.join(',');
    return this.#json<VisualizationExport>('POST', '/api/v3/visualization_exports', { json: body }, isExport);
  }

  /** GET /api/v3/visualization_exports/:id */
  async getVisualizationExport(exportId: string): Promise<VisualizationExport> {
    return this.#json<VisualizationExport>(
      'GET',
      `/api/v3/visualization_exports/${encodeURIComponent(exportId)}`,
      {},
      isExport,
    );
  }

  /**
   * Opens the export's file. `url` is absolute (a pre-signed S3 URL, fetched without CARTO credentials) or relative
   * to the account (`/uploads/...` or `.../download`, fetched with them).
   */
  async openExportFile(
    url: string,
    range?: { start: number; ifRange?: string },
    signal?: AbortSignal,
  ): Promise<CartoDownload> {
    const target = this.resolveExportUrl(url);
    const headers: Record<string, string> = { 'user-agent': this.#userAgent };
    if (target.authenticated) headers.authorization = this.#authorization;
    if (range) {
      headers.range = `bytes=${range.start}-`;
      if (range.ifRange) headers['if-range'] = range.ifRange;
    }
    const endpoint = describeUrl(target.url);
    const response = await this.#send('GET', target.url, endpoint, { headers, signal });
    if (response.statusCode !== 200 && response.statusCode !== 206) {
      await this.#fail('GET', endpoint, response);
    }
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const length = header('content-length');
    const body = response.body as unknown as Readable;
    return {
      body,
      status: response.statusCode,
      contentLength: length === undefined ? undefined : Number(length),
      etag: header('etag'),
      lastModified: header('last-modified'),
      acceptRanges: header('accept-ranges') === 'bytes',
      contentRange: response.statusCode === 206 ? parseContentRange(header('content-range')) : undefined,
    };
  }

  /** Where a `url` of a complete export points, and whether CARTO credentials belong on that request. */
  resolveExportUrl(url: string): { url: URL; authenticated: boolean } {
    const base = new URL(this.baseUrl);
    // `/api/...` paths are account-relative (the download endpoint); other relative paths (`/uploads/...`) hang off the host.
    const target = url.startsWith('/api/') ? new URL(`${this.baseUrl}${url}`) : new URL(url, base.origin);
    return { url: target, authenticated: target.origin === base.origin };
  }

  /** POST /api/v1/imports with `url`: CARTO downloads the file itself. Answers 200 `{item_queue_id, success}`. */
  async createImportFromUrl(fileUrl: string, options: ImportOptions): Promise<string> {
    const created = await this.#json<{ item_queue_id: string }>(
      'POST',
      '/api/v1/imports',
      { json: { url: fileUrl, ...importParams(options) } },
      (v) => typeof (v as { item_queue_id?: unknown }).item_queue_id === 'string',
    );
    return created.item_queue_id;
  }

  /** POST /api/v1/imports with the file as the raw body and `?filename=`: streams, so size never touches memory. */
  async createImportFromStream(
    body: Readable,
    file: { filename: string; size: number },
    options: ImportOptions,
    signal?: AbortSignal,
  ): Promise<string> {
    const query = new URLSearchParams({ filename: file.filename, ...importParams(options) });
    const created = await this.#json<{ item_queue_id: string }>(
      'POST',
      `/api/v1/imports?${query}`,
      {
        raw: { body, length: file.size, contentType: 'application/octet-stream' },
        signal,
        timeoutMs: Math.max(this.#timeoutMs, 600_000),
      },
      (v) => typeof (v as { item_queue_id?: unknown }).item_queue_id === 'string',
    );
    return created.item_queue_id;
  }

  /** GET /api/v1/imports/:id */
  async getImport(importId: string): Promise<DataImport> {
    return this.#json<DataImport>('GET', `/api/v1/imports/${encodeURIComponent(importId)}`, {}, (v) => {
      const item = v as Partial<DataImport>;
      return typeof item.id === 'string' && typeof item.state === 'string';
    });
  }

  /** GET /api/v1/viz: the account's own maps, one page (1-based). */
  async listVisualizations(
    page = 1,
    perPage = 100,
  ): Promise<{ visualizations: VisualizationSummary[]; totalEntries: number }> {
    const query = new URLSearchParams({
      type: 'derived',
      exclude_shared: 'true',
      page: String(page),
      per_page: String(perPage),
    });
    const result = await this.#json<{ visualizations: VisualizationSummary[]; total_entries: number }>(
      'GET',
      `/api/v1/viz?${query}`,
      {},
      (v) => Array.isArray((v as { visualizations?: unknown }).visualizations),
    );
    return { visualizations: result.visualizations, totalEntries: result.total_entries };
  }

  async #json<T>(
    method: Method,
    path: string,
    options: {
      json?: unknown;
      raw?: { body: Readable; length: number; contentType: string };
      signal?: AbortSignal;
      timeoutMs?: number;
    },
    isValid: (value: unknown) => boolean,
  ): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    const endpoint = describeUrl(url);
    const headers: Record<string, string> = {
      authorization: this.#authorization,
      accept: 'application/json',
      'user-agent': this.#userAgent,
    };
    let body: string | Readable | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.raw) {
      headers['content-type'] = options.raw.contentType;
      headers['content-length'] = String(options.raw.length);
      body = options.raw.body;
    }
    const response = await this.#send(method, url, endpoint, {
      headers,
      body,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    if (response.statusCode < 200 || response.statusCode >= 300) await this.#fail(method, endpoint, response);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await response.body.text());
    } catch (error) {
      if (error instanceof SyntaxError) throw new CartoProtocolError(method, endpoint, 'body is not JSON');
      throw new CartoNetworkError(method, endpoint, reasonOf(error));
    }
    if (parsed === null || typeof parsed !== 'object' || !isValid(parsed)) {
      throw new CartoProtocolError(method, endpoint, 'body lacks the documented fields');
    }
    return parsed as T;
  }

  async #send(
    method: Method,
    url: URL,
    endpoint: string,
    options: {
      headers: Record<string, string>;
      body?: string | Readable;
      signal?: AbortSignal;
      timeoutMs?: number;
    },
  ): Promise<Dispatcher.ResponseData> {
    const timeout = options.timeoutMs ?? this.#timeoutMs;
    try {
      return await request(url, {
        method,
        headers: options.headers,
        body: options.body,
        signal: options.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        dispatcher: this.#dispatcher,
      });
    } catch (error) {
      throw new CartoNetworkError(method, endpoint, reasonOf(error));
    }
  }

  async #fail(method: Method, endpoint: string, response: Dispatcher.ResponseData): Promise<never> {
    let text = '';
    try {
      text = await response.body.text();
    } catch {
      // The status is what matters; a body that breaks off adds nothing.
    }
    throw new CartoHttpError(
      response.statusCode,
      method,
      endpoint,
      errorMessageOf(text),
      parseRetryAfter(response.headers['retry-after']),
    );
  }
}

function importParams(options: ImportOptions): Record<string, string> {
  const params: Record<string, string> = { create_vis: options.createVisualization ? 'true' : 'false' };
  if (options.privacy) params.privacy = options.privacy;
  if (options.collisionStrategy) params.collision_strategy = options.collisionStrategy;
  return params;
}

function isExport(value: unknown): boolean {
  const item = value as Partial<VisualizationExport>;
  return typeof item.id === 'string' && typeof item.state === 'string';
}

/** CARTO's error bodies: `{"errors":"..."}`, `{"errors":{"imports":"..."}}`, `{"error":"..."}`, or S3 XML. */
function errorMessageOf(text: string): string | undefined {
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as { errors?: unknown; error?: unknown };
    const errors = body.errors ?? body.error;
    if (typeof errors === 'string') return errors;
    if (errors && typeof errors === 'object') return Object.values(errors).map(String).join('; ');
  } catch {
    const xml = /<Message>([^<]*)<\/Message>/.exec(text);
    if (xml) return xml[1];
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** A URL as it may appear in messages: no query string, which can hold `api_key` or a signature. */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** `bytes 100-199/1000` or `bytes 100-199/*`; anything else (multipart ranges, garbage) is not a range we can use. */
function parseContentRange(value: string | undefined): CartoDownload['contentRange'] {
  const match = value ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!match) return undefined;
  return {
    start: Number(match[1]),
    end: Number(match[2]),
    total: match[3] === '*' ? null : Number(match[3]),
  };
}
