// The copy activity against real SeaweedFS and a real HTTP source that can break off, stall or refuse.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
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
import { createCopyActivities } from '../../activities/copy-export-to-s3';
import { createS3Client } from '../../activities/s3-client';
import { FailureType, type StoredObject } from '../../contract/export-visualization';
import { startSeaweedS3 } from '../../local-stack/seaweedfs';
import { installQuietRuntime } from '../support/quiet-runtime';

const MiB = 1024 * 1024;
const BUCKET = 'copy-tests';
const credentials = { accessKeyId: 'copy-key', secretAccessKey: 'copy-secret' };

type Behaviour = 'whole' | 'truncate' | 'stall' | 'expired';
let behaviour: Behaviour = 'whole';
const file = Buffer.alloc(11 * MiB);
for (let i = 0; i < file.length; i += 4) file.writeUInt32LE((i * 2654435761) >>> 0, i);

let server: Server;
let baseUrl: string;
let s3Endpoint: string;
let s3: S3Client;
let stopS3: () => Promise<void>;
let copy: ReturnType<typeof createCopyActivities>['copyExportToS3'];

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
    res.writeHead(200, { 'content-length': file.length, 'content-type': 'application/zip' });
    if (behaviour === 'whole') {
      res.end(file);
    } else if (behaviour === 'truncate') {
      res.write(file.subarray(0, 7 * MiB), () => res.destroy());
    } else {
      res.write(file.subarray(0, 6 * MiB)); // then nothing more: the test cancels meanwhile
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new CartoAccounts({ demo: { baseUrl: `${baseUrl}/user/demo`, apiKey: 'k' } });
  copy = createCopyActivities({
    accounts,
    s3,
    defaultBucket: BUCKET,
    copy: { partSize: 5 * MiB, queueSize: 2 },
  }).copyExportToS3;
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

describe('copyExportToS3', () => {
  test('streams a multi-part file into S3 and verifies size, ETag and checksum', async () => {
    behaviour = 'whole';
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const stored = (await env.run(copy, input('ok/map.carto'))) as StoredObject;
    assert.equal(stored.size, file.length);
    assert.equal(stored.checksum, `sha256:${createHash('sha256').update(file).digest('hex')}`);
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ok/map.carto' }));
    assert.match(object.ETag ?? '', /-3"$/, 'stored as a three-part upload');
    const chunks: Buffer[] = [];
    for await (const chunk of object.Body as Readable) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(file));
    assert.deepEqual(beats.at(-1), { bytesCopied: file.length, totalBytes: file.length });
  });

  test('leaves no object and no multipart upload when the download breaks off', async () => {
    behaviour = 'truncate';
    const failure = await failureFrom(new MockActivityEnvironment().run(copy, input('broken/map.carto')));
    assert.equal(failure.type, FailureType.CartoUnavailable);
    assert.equal(failure.nonRetryable, false, 'a broken download is retried');
    await assertNothingLeft('broken/map.carto');
  });

  test('aborts cleanly when cancelled mid-copy', async () => {
    behaviour = 'stall';
    const env = new MockActivityEnvironment();
    const running = env.run(copy, input('cancelled/map.carto'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    env.cancel('CANCELLED');
    await assert.rejects(running);
    // lib-storage lets in-flight parts finish before it aborts the upload.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await assertNothingLeft('cancelled/map.carto');
  });

  test('reports an expired file URL as ExportFileUnavailable, not retryable', async () => {
    behaviour = 'expired';
    const failure = await failureFrom(new MockActivityEnvironment().run(copy, input('expired/map.carto')));
    assert.equal(failure.type, FailureType.ExportFileUnavailable);
    assert.equal(failure.nonRetryable, true);
    assert.doesNotMatch(failure.message, /Signature|X-Amz/);
  });

  test('refuses S3 credentials it cannot use, without retrying or echoing the secret', async () => {
    behaviour = 'whole';
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
