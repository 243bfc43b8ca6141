// Shared set-up for the emulator's conformance tests: a running emulator, polling, zips, a tiny file server, the CLI.
import { spawn } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ZipFile } from 'yazl';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../carto-emulator/emulator';

export const FAST: EmulatorOptions = { exportDuration: 300, importDuration: 300, exportSize: 64 * 1024 };

export async function emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ ...FAST, ...options });
}

/** The first seeded map with the given privacy (the default emulator has PUBLIC, PUBLIC, PRIVATE). */
export function seededMap(running: RunningEmulator, privacy: 'PUBLIC' | 'PRIVATE' = 'PUBLIC') {
  const map = running
    .maps('demo')
    .find((candidate) => candidate.type === 'derived' && candidate.privacy === privacy);
  if (!map) throw new Error(`no ${privacy} map seeded`);
  return map;
}

export function basic(user: string, key: string): string {
  return `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;
}

export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `url` until `done(body)` holds, collecting every state seen on the way. */
export async function pollUntil(
  url: string,
  done: (body: Record<string, unknown>) => boolean,
  init: RequestInit = {},
  timeoutMs = 10_000,
): Promise<{ body: Record<string, unknown>; states: string[] }> {
  const states: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(url, init);
    const body = await json(response);
    if (states[states.length - 1] !== body.state) states.push(String(body.state));
    if (done(body)) return { body, states };
    if (Date.now() > deadline) throw new Error(`timed out; last body ${JSON.stringify(body)}`);
    await sleep(15);
  }
}

/** Exports `mapId` as the demo user and waits for completion; returns the final presenter body. */
export async function completedExport(
  running: RunningEmulator,
  mapId: string,
  extra: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const base = running.accountUrl('demo');
  const created = await fetch(`${base}/api/v3/visualization_exports?api_key=demo-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ visualization_id: mapId, ...extra }),
  });
  const { id } = await json(created);
  const { body } = await pollUntil(
    `${base}/api/v3/visualization_exports/${id}?api_key=demo-key`,
    (current) => current.state === 'complete' || current.state === 'failure',
  );
  return body;
}

export async function zipOf(entries: { name: string; data: Buffer | string }[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const entry of entries) zip.addBuffer(Buffer.from(entry.data), entry.name, { compress: false });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Serves fixed responses by path, like a pre-signed S3 URL would; `close()` when done. */
export async function fileServer(
  routes: Record<string, { status?: number; body?: Buffer; headers?: Record<string, string> }>,
): Promise<{ url: (path: string) => string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    const body = route?.body ?? Buffer.from('not found');
    res.writeHead(route ? (route.status ?? 200) : 404, {
      'content-length': String(body.length),
      ...route?.headers,
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A raw GET with a chosen Host header (fetch does not let callers set Host). */
export function getWithHost(
  url: string,
  host: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const MAIN = join(__dirname, '..', '..', 'carto-emulator', 'main.ts');

/** Runs `npm run emulator -- …args`; Ctrl-C once stdout matches `untilOutput` (otherwise it must exit alone). */
export function runCli(
  args: string[],
  untilOutput?: RegExp,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (untilOutput?.test(stdout) && !interrupted) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
