// Starts the pinned Temporal CLI's `temporal server start-dev` on free loopback ports and waits until it serves gRPC.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { registerSearchAttributes } from '../client/register-search-attributes';
import { findBinary } from './binaries';
import { acceptsConnections, getFreePorts, retryOnPortClash } from './free-port';
import { spawnManaged, type ManagedProcess } from './managed-process';

export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface TemporalDevServerOptions {
  /** Frontend gRPC port; a free one by default. */
  port?: number;
  /** Web UI port; a free one by default; false runs headless. */
  uiPort?: number | false;
  /** SQLite file that keeps state across restarts; in-memory by default. Its folder is created if missing. */
  dbFilename?: string;
  /** A namespace to create besides `default`, and the one the readiness check asks for. */
  namespace?: string;
  /** Registered at start: the dev server only knows search attributes given here or added via the operator API. */
  searchAttributes?: Record<string, SearchAttributeType>;
  /** Dynamic config overrides, e.g. `{ 'limit.historyCount.suggestContinueAsNew': 40 }`; values are sent as JSON. */
  dynamicConfig?: Record<string, unknown>;
  /** Append the server's output to this file. */
  logFile?: string;
  /** How long to wait for the server to answer; 30 s by default. */
  readyTimeoutMs?: number;
}

export interface TemporalDevServer {
  /** `127.0.0.1:<port>`, for `Connection.connect({ address })` and `temporal --address`. */
  address: string;
  namespace: string;
  /** Set unless the server runs headless. */
  uiUrl?: string;
  process: ChildProcess;
  /** SIGTERM, then waits for exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL, then waits for exit: a crash, for tests of what survives one. */
  kill(): Promise<void>;
}

const HOST = '127.0.0.1';
const DEFAULT_READY_TIMEOUT_MS = 30_000;

/**
 * Starts a Temporal dev server and resolves once `namespace` answers DescribeNamespace over gRPC (and the Web UI
 * answers HTTP, when enabled). Rejects with a ServerStartError carrying the server's last output if it exits or is
 * not ready in time. Like every local-stack server, it dies with this Node process.
 */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions = {},
): Promise<TemporalDevServer> {
  const binary = findBinary('temporal');
  return retryOnPortClash(() => startOnce(binary, options));
}

async function startOnce(binary: string, options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  // The HTTP API and metrics ports default to random ones inside the server, but picking them here keeps every
  // listener on 127.0.0.1 and in the same free-port discipline as the others.
  const [freePort, freeUiPort, httpPort, metricsPort] = await getFreePorts(4);
  const port = options.port ?? freePort;
  const uiPort = options.uiPort === false ? undefined : (options.uiPort ?? freeUiPort);

  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(port)];
  args.push('--http-port', String(httpPort), '--metrics-port', String(metricsPort));
  if (uiPort === undefined) args.push('--headless');
  // The UI's newsfeed would be fetched from the internet, which these machines cannot reach.
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  if (options.dbFilename) {
    mkdirSync(path.dirname(path.resolve(options.dbFilename)), { recursive: true });
    args.push('--db-filename', options.dbFilename);
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(options.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${toJson(key, value)}`);
  }
  args.push('--log-level', 'warn');

  const server = spawnManaged({
    name: 'temporal dev server',
    command: binary,
    args,
    logFile: options.logFile,
  });
  const address = `${HOST}:${port}`;
  const uiUrl = uiPort === undefined ? undefined : `http://${HOST}:${uiPort}`;
  try {
    await server.waitUntilReady(
      async () => (await servesNamespace(port, namespace)) && (!uiUrl || (await answersHttp(uiUrl))),
      options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    );
    // `--search-attribute` only takes effect when the SQLite file is new: a state file from an earlier start (or from
    // a start that failed halfway) would keep lacking them, and every workflow that upserts one would be stuck.
    if (options.dbFilename && options.searchAttributes) {
      const connection = await Connection.connect({ address });
      try {
        await registerSearchAttributes(connection, namespace, options.searchAttributes);
      } finally {
        await connection.close();
      }
    }
  } catch (error) {
    await server.kill();
    throw error;
  }
  return handleFor(server, address, namespace, uiUrl);
}

function handleFor(
  server: ManagedProcess,
  address: string,
  namespace: string,
  uiUrl?: string,
): TemporalDevServer {
  return {
    address,
    namespace,
    ...(uiUrl ? { uiUrl } : {}),
    process: server.process,
    stop: () => server.stop(),
    kill: () => server.kill(),
  };
}

async function servesNamespace(port: number, namespace: string): Promise<boolean> {
  const address = `${HOST}:${port}`;
  // A gRPC connect to a port nobody listens on yet backs off for a second before retrying; a plain TCP probe first
  // keeps startup near the server's own ~0.2 s.
  if (!(await acceptsConnections(HOST, port))) return false;
  // lazy + ensureConnected rather than connect(): a failed connect() leaves its channel open and retrying.
  const connection = Connection.lazy({ address, connectTimeout: 1_000 });
  try {
    await connection.ensureConnected();
    await connection.withDeadline(Date.now() + 2_000, () =>
      connection.workflowService.describeNamespace({ namespace }),
    );
    return true;
  } finally {
    await connection.close();
  }
}

async function answersHttp(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status < 500;
}

function toJson(key: string, value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined)
    throw new TypeError(`dynamicConfig['${key}'] is not JSON-serializable: ${String(value)}`);
  return json;
}
