// Starts the pinned SeaweedFS (`weed mini`) as a loopback S3 server on free ports and waits until its buckets exist.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { findBinary } from './binaries';
import { getFreePortPairs, retryOnPortClash } from './free-port';
import { atProcessExit, spawnManaged } from './managed-process';

export interface SeaweedS3Options {
  /** S3 port; a free one by default. Its gRPC twin (port + 10000) must be free too. */
  s3Port?: number;
  /**
   * Data folder, created if missing. A folder passed here is never deleted: restarting on it keeps the data. By
   * default a fresh temp folder, deleted when this Node process exits.
   */
  dir?: string;
  /** Buckets that exist once the server is ready (created if missing). */
  buckets?: string[];
  /** The only credentials the server accepts (an admin identity). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Append the server's output to this file. */
  logFile?: string;
  /** How long to wait for the server to answer; 30 s by default. */
  readyTimeoutMs?: number;
}

export interface SeaweedS3 {
  /** `http://127.0.0.1:<port>`; use with forcePathStyle: true and region us-east-1. */
  endpoint: string;
  dir: string;
  process: ChildProcess;
  /** SIGTERM, then waits for exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL, then waits for exit: a crash, for tests of what survives one. */
  kill(): Promise<void>;
}

const HOST = '127.0.0.1';
/** weed derives each component's gRPC port as HTTP port + 10000 unless told otherwise. */
const GRPC_OFFSET = 10_000;
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** weed puts its local sockets here whatever TMPDIR says. */
const SOCKET_DIR = '/tmp';
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Starts `weed mini` (master, volume, filer and S3 in one process) with every listener on 127.0.0.1 and a port of its
 * own, so that several instances (a demo and a test run) coexist. Resolves once `/healthz` answers and every bucket
 * in `buckets` exists; rejects with a ServerStartError carrying weed's last output otherwise. Like every local-stack
 * server, it dies with this Node process.
 */
export async function startSeaweedS3(options: SeaweedS3Options): Promise<SeaweedS3> {
  const buckets = options.buckets ?? [];
  for (const bucket of buckets) {
    if (!BUCKET_NAME.test(bucket)) throw new RangeError(`invalid S3 bucket name: '${bucket}'`);
  }
  const binary = findBinary('weed');
  const dir = path.resolve(options.dir ?? freshTempDir());
  mkdirSync(dir, { recursive: true });
  return retryOnPortClash(() => startOnce(binary, dir, buckets, options));
}

async function startOnce(binary: string, dir: string, buckets: string[], options: SeaweedS3Options) {
  const [masterPort, volumePort, filerPort, adminPort, freeS3Port] = await getFreePortPairs(5, GRPC_OFFSET);
  const s3Port = options.s3Port ?? freeS3Port;
  const components = {
    master: masterPort,
    volume: volumePort,
    filer: filerPort,
    s3: s3Port,
    admin: adminPort,
  };

  // weed saves its flags to <dir>/mini.options and reloads them on the next start, so a flag left out now would
  // silently take last run's value: every port is passed, every time.
  const args = ['-logtostderr', 'mini', `-dir=${dir}`, `-ip=${HOST}`, `-ip.bind=${HOST}`];
  // Telemetry would post to telemetry.seaweedfs.com; WebDAV, the admin UI and the Iceberg/Lance catalogs are unused.
  args.push(
    '-master.telemetry=false',
    '-webdav=false',
    '-admin.ui=false',
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
  );
  // The pre-stop pause lets a cluster's master steer writes elsewhere; alone, it only adds a second to every stop.
  args.push('-volume.preStopSeconds=0');
  for (const [component, port] of Object.entries(components)) {
    // The admin server runs even with -admin.ui=false, and its worker dials admin port + 10000 whatever
    // -admin.port.grpc says, so the gRPC ports are pinned to that rule rather than drawn separately.
    args.push(`-${component}.port=${port}`, `-${component}.port.grpc=${port + GRPC_OFFSET}`);
  }
  args.push(`-bucket=${buckets.join(',')}`);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: options.accessKeyId,
    AWS_SECRET_ACCESS_KEY: options.secretAccessKey,
  };
  // weed falls back to these when the matching flag is empty; the caller's environment must not add buckets.
  delete env.S3_BUCKET;
  delete env.S3_TABLE_BUCKET;
  delete env.S3_EXTERNAL_URL;

  // cwd = dir: weed also reads filer.toml / security.toml from its working folder, and the caller's may have some.
  const server = spawnManaged({
    name: 'weed mini',
    command: binary,
    args,
    env,
    cwd: dir,
    logFile: options.logFile,
  });
  const ports = Object.values(components).flatMap((port) => [port, port + GRPC_OFFSET]);
  // If this Node process ends first, weed dies without being able to tidy up; do it for it.
  const cancelExitCleanup = atProcessExit(() => removeLocalSockets(ports));
  const socketsRemoved = server.exited.then(() => {
    cancelExitCleanup();
    removeLocalSockets(ports);
  });

  const endpoint = `http://${HOST}:${s3Port}`;
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The readiness loop does its own retrying; one attempt per probe keeps each probe short.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  try {
    await server.waitUntilReady(
      async () => (await isHealthy(endpoint)) && (await ensureBuckets(s3, buckets)),
      options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    );
  } catch (error) {
    await server.kill();
    await socketsRemoved;
    throw error;
  } finally {
    s3.destroy();
  }
  return {
    endpoint,
    dir,
    process: server.process,
    stop: async () => {
      await server.stop();
      await socketsRemoved;
    },
    kill: async () => {
      await server.kill();
      await socketsRemoved;
    },
  };
}

async function isHealthy(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/healthz`, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.ok;
}

async function ensureBuckets(s3: S3Client, buckets: string[]): Promise<boolean> {
  for (const bucket of buckets) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      continue;
    } catch (error) {
      if (!(error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)) throw error;
    }
    // -bucket creates buckets in the background and only warns when that fails, so missing ones are made here.
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (error) {
      const alreadyThere = error instanceof S3ServiceException && /^BucketAlready/.test(error.name);
      if (!alreadyThere) throw error;
    }
  }
  return true;
}

/** weed leaves its Unix sockets behind (named after their ports) when it exits; remove the ones this run made. */
function removeLocalSockets(ports: number[]): void {
  const mine = new Set(ports.map(String));
  let names: string[];
  try {
    names = readdirSync(SOCKET_DIR);
  } catch {
    return;
  }
  for (const name of names) {
    if (!mine.has(/^seaweedfs-[a-z0-9-]+-(\d+)\.sock$/.exec(name)?.[1] ?? '')) continue;
    try {
      unlinkSync(path.join(SOCKET_DIR, name));
    } catch {
      // Already gone.
    }
  }
}

/** A new folder under the OS temp dir, removed when this Node process exits (restarts before then keep their data). */
function freshTempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carto-ferry-weed-'));
  atProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
