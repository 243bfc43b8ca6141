// The copy activity against real SeaweedFS and a real HTTP source that can break off, stall or refuse.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Readable } from 'node:stream';
import { CartoAccounts } from '../../activities/carto-accounts';
import { createCopyActivities, type CopyProgress } from '../../activities/copy-export-to-s3';
import { createS3Client } from '../../activities/s3-client';
import { FailureType, type StoredObject } from '../../contract/export-visualization';
import { startSeaweedS3 } from '../../local-stack/seaweedfs';
import { installQuietRuntime } from '../support/quiet-runtime';

const MiB = 1024 * 1024;
const BUCKET = 'copy-tests';
const credentials = { accessKeyId: 'copy-key', secretAccessKey: 'copy-secret' };

type Behaviour = 'whole' | 'truncate' | 'stall' | 'expired';
/** How the next download behaves; `truncate` applies once, then the source serves whole files again. */
let behaviour: Behaviour = 'whole';
/** Whether the source advertises ranges and a strong ETag, as S3 (and CARTO's storage) does. */
let servesRanges = true;

function fileOfVersion(version: number): Buffer {
  const bytes = Buffer.alloc(11 * MiB);
  for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE(((i + version) * 2654435761) >>> 0, i);
  return bytes;
}
let version = 1;
let file = fileOfVersion(version);
const etag = () => `"map-v${version}"`;
/** Every download request: where it asked to start and what it got. */
const downloads: { range: string | undefined; status: number }[] = [];

let server: Server;
let baseUrl: string;
let s3Endpoint: string;
let s3: S3Client;
let stopS3: () => Promise<void>;
let activities: ReturnType<typeof createCopyActivities>;
let copy: (typeof activities)['copyExportToS3'];

before(async () => {
  installQuietRuntime();
  const seaweed = await startSeaweedS3({ buckets: [BUCKET], ...credentials });
  stopS3 = () => seaweed.stop();
  s3Endpoint = seaweed.endpoint;
  s3 = createS3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    checksums: 'WHEN_REQUIRED',
  });

  // Just enough of CARTO for one module's test: a complete export whose file misbehaves on demand.
  server = createServer((req, res) => {
    if (req.url?.startsWith('/user/demo/api/v3/visualization_exports/')) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id: 'exp-1',
          visualization_id: 'v',
          user_id: 'u',
          state: 'complete',
          url: `${baseUrl}/files/map.carto`,
          created_at: '',
          updated_at: '',
        }),
      );
      return;
    }
    if (behaviour === 'expired') {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      return;
    }
    const validators = servesRanges ? { etag: etag(), 'accept-ranges': 'bytes' } : {};
    const ranged = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const rangeHolds =
      servesRanges && ranged && (!req.headers['if-range'] || req.headers['if-range'] === etag());
    const start = rangeHolds ? Number(ranged[1]) : 0;
    const status = rangeHolds ? 206 : 200;
    downloads.push({ range: req.headers.range, status });
    res.writeHead(status, {
      ...validators,
      'content-length': file.length - start,
      'content-type': 'application/zip',
      ...(rangeHolds ? { 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` } : {}),
    });
    const body = file.subarray(start);
    if (behaviour === 'whole') {
      res.end(body);
    } else if (behaviour === 'truncate') {
      behaviour = 'whole';
      res.write(body.subarray(0, 7 * MiB), () => res.destroy());
    } else {
      res.write(body.subarray(0, 6 * MiB)); // then nothing more: the test cancels meanwhile
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new CartoAccounts({ demo: { baseUrl: `${baseUrl}/user/demo`, apiKey: 'k' } });
  activities = createCopyActivities({
    accounts,
    s3,
    defaultBucket: BUCKET,
    copy: { partSize: 5 * MiB, queueSize: 2 },
  });
  copy = activities.copyExportToS3;
});

after(async () => {
  server?.closeAllConnections();
  server?.close();
  s3?.destroy();
  await stopS3?.();
});

const input = (key: string) => ({ account: 'demo', exportId: 'exp-1', visualizationId: 'v', key });

async function assertNothingLeft(key: string) {
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  assert.deepEqual(uploads.Uploads ?? [], [], 'no multipart upload is left pending');
}

async function failureFrom(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => assert.fail('expected failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, String(error));
  return error;
}

/** Runs one attempt of the copy; `previous` is the last heartbeat of the attempt before, as the server would pass it. */
async function attempt(key: string, previous?: { attempt: number; heartbeat: unknown }) {
  const env = new MockActivityEnvironment(
    previous ? { attempt: previous.attempt + 1, heartbeatDetails: previous.heartbeat } : {},
  );
  const beats: CopyProgress[] = [];
  env.on('heartbeat', (details: CopyProgress) => beats.push(details));
  const outcome: { stored?: StoredObject; error?: unknown } = await env.run(copy, input(key)).then(
    (stored) => ({ stored: stored as StoredObject }),
    (error: unknown) => ({ error }),
  );
  return { ...outcome, beats, heartbeat: beats.at(-1), attempt: previous ? previous.attempt + 1 : 1 };
}

async function storedBytes(key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const chunks: Buffer[] = [];
  for await (const chunk of object.Body as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function pendingUploads(): Promise<number> {
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return (uploads.Uploads ?? []).length;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('copyExportToS3', () => {
  beforeEach(() => {
    behaviour = 'whole';
    servesRanges = true;
    downloads.length = 0;
  });

  test('streams a multi-part file into S3 and verifies size, ETag and checksum', async () => {
    const { stored, beats } = await attempt('ok/map.carto');
    assert.ok(stored);
    assert.equal(stored.size, file.length);
    assert.equal(stored.checksum, sha256(file));
    const object = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'ok/map.carto' }));
    assert.match(object.ETag ?? '', /-3"$/, 'stored as a three-part upload');
    assert.ok((await storedBytes('ok/map.carto')).equals(file));
    assert.deepEqual(beats.at(-1), { bytesCopied: file.length, totalBytes: file.length });
    assert.equal(await pendingUploads(), 0);
  });

  test('resumes after a broken download: keeps the landed parts and reads only the rest, with Range and If-Range', async () => {
    behaviour = 'truncate';
    const first = await attempt('resumed/map.carto');
    assert.ok(first.error instanceof ApplicationFailure, String(first.error));
    assert.equal(first.error.type, FailureType.CartoUnavailable);
    assert.equal(first.error.nonRetryable, false, 'a broken download is retried');
    // 7 MiB arrived before the break: part 1 (5 MiB) landed and is checkpointed; the upload stays open for the retry.
    assert.equal(first.heartbeat?.checkpoint?.partMd5s.length, 1);
    assert.equal(first.heartbeat?.checkpoint?.sourceEtag, etag());
    assert.equal(await pendingUploads(), 1);

    const second = await attempt('resumed/map.carto', first);
    assert.ok(second.stored, String(second.error));
    assert.deepEqual(downloads.at(-1), { range: `bytes=${5 * MiB}-`, status: 206 });
    assert.ok((await storedBytes('resumed/map.carto')).equals(file), 'byte-identical');
    assert.equal(second.stored.size, file.length);
    assert.equal(second.stored.checksum, sha256(file), 'the checksum covers the parts of both attempts');
    assert.equal(await pendingUploads(), 0);
  });

  test('starts over when the source changed between attempts (If-Range answered with the whole new file)', async () => {
    behaviour = 'truncate';
    const first = await attempt('changed/map.carto');
    assert.equal(first.heartbeat?.checkpoint?.partMd5s.length, 1);
    version += 1;
    file = fileOfVersion(version);
    const second = await attempt('changed/map.carto', first);
    assert.ok(second.stored, String(second.error));
    assert.deepEqual(downloads.at(-1), { range: `bytes=${5 * MiB}-`, status: 200 });
    assert.ok((await storedBytes('changed/map.carto')).equals(file), 'only the new version, nothing spliced');
    assert.equal(second.stored.checksum, sha256(file));
    assert.equal(await pendingUploads(), 0, 'the first attempt’s upload was aborted');
  });

  test('starts over cleanly when the source has no validator to resume against', async () => {
    servesRanges = false;
    behaviour = 'truncate';
    const first = await attempt('unresumable/map.carto');
    assert.ok(first.error);
    assert.equal(first.heartbeat?.checkpoint, undefined, 'no checkpoint without an ETag and ranges');
    const second = await attempt('unresumable/map.carto', first);
    assert.ok(second.stored, String(second.error));
    assert.deepEqual(downloads.at(-1), { range: undefined, status: 200 });
    assert.ok((await storedBytes('unresumable/map.carto')).equals(file));
    assert.equal(await pendingUploads(), 0, 'the broken attempt’s upload was aborted');
  });

  test('starts over when the checkpointed upload is gone from S3', async () => {
    behaviour = 'truncate';
    const first = await attempt('vanished/map.carto');
    assert.equal(await activities.abortCopyUploads({ key: 'vanished/map.carto' }), 1);
    const second = await attempt('vanished/map.carto', first);
    assert.ok(second.stored, String(second.error));
    assert.deepEqual(downloads.at(-1), { range: undefined, status: 200 });
    assert.ok((await storedBytes('vanished/map.carto')).equals(file));
  });

  test('abortCopyUploads removes what a given-up copy left, and nothing else', async () => {
    behaviour = 'truncate';
    await attempt('given-up/map.carto');
    await attempt('other/map.carto').then(() => undefined);
    assert.equal(await activities.abortCopyUploads({ key: 'given-up/map.carto' }), 0 + 1);
    assert.equal(await pendingUploads(), 0, 'the other key had completed, so nothing is pending');
    await assertNothingLeft('given-up/map.carto');
  });

  test('aborts cleanly when cancelled mid-copy', async () => {
    behaviour = 'stall';
    const env = new MockActivityEnvironment();
    const running = env.run(copy, input('cancelled/map.carto'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    env.cancel('CANCELLED');
    await assert.rejects(running);
    await assertNothingLeft('cancelled/map.carto');
  });

  test('reports an expired file URL as ExportFileUnavailable, not retryable, and leaves no upload', async () => {
    behaviour = 'truncate';
    const first = await attempt('expired/map.carto');
    assert.equal(await pendingUploads(), 1);
    behaviour = 'expired';
    const second = await attempt('expired/map.carto', first);
    assert.ok(second.error instanceof ApplicationFailure, String(second.error));
    assert.equal(second.error.type, FailureType.ExportFileUnavailable);
    assert.equal(second.error.nonRetryable, true);
    assert.doesNotMatch(second.error.message, /Signature|X-Amz/);
    await assertNothingLeft('expired/map.carto');
  });

  test('refuses S3 credentials it cannot use, without retrying or echoing the secret', async () => {
    const badS3 = createS3Client({
      endpoint: s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: 'wrong-secret-value' },
      checksums: 'WHEN_REQUIRED',
    });
    const accounts = new CartoAccounts({ demo: { baseUrl: `${baseUrl}/user/demo`, apiKey: 'k' } });
    const badCopy = createCopyActivities({
      accounts,
      s3: badS3,
      defaultBucket: BUCKET,
      copy: { partSize: 5 * MiB, queueSize: 2 },
    });
    const failure = await failureFrom(
      new MockActivityEnvironment().run(badCopy.copyExportToS3, input('denied.carto')),
    );
    badS3.destroy();
    assert.equal(failure.type, FailureType.DestinationUnavailable);
    assert.equal(failure.nonRetryable, true);
    assert.doesNotMatch(failure.message, /wrong-secret-value|copy-secret/);
  });
});
