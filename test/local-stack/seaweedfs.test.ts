// Specification of startSeaweedS3, against the real pinned `weed mini`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ServerStartError } from '../../local-stack/managed-process';
import { startSeaweedS3, type SeaweedS3 } from '../../local-stack/seaweedfs';
import { acceptsConnections } from './fixtures/accepts-connections';

const credentials = { accessKeyId: 'local-stack-key', secretAccessKey: 'local-stack-secret' };

function s3For(endpoint: string, keys = credentials): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: keys,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function bucketNames(s3: S3Client): Promise<string[]> {
  const listed = await s3.send(new ListBucketsCommand({}));
  return (listed.Buckets ?? []).map((bucket) => bucket.Name ?? '').sort();
}

async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

/** weed's Unix sockets in /tmp that are named after this server's S3 port. */
function socketsOf(server: SeaweedS3): string[] {
  const port = new URL(server.endpoint).port;
  return readdirSync('/tmp').filter(
    (name) => name.startsWith('seaweedfs-') && name.endsWith(`-${port}.sock`),
  );
}

describe('a SeaweedFS S3 server with buckets', () => {
  let server: SeaweedS3;
  let s3: S3Client;
  let startupMs: number;

  before(async () => {
    const started = Date.now();
    server = await startSeaweedS3({ buckets: ['exports', 'archive'], ...credentials });
    startupMs = Date.now() - started;
    s3 = s3For(server.endpoint);
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
    if (server) rmSync(server.dir, { recursive: true, force: true });
  });

  test('listens on 127.0.0.1 with the requested buckets already there', async (t) => {
    t.diagnostic(`weed mini was ready (healthz + buckets) ${startupMs} ms after spawn`);
    assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await bucketNames(s3), ['archive', 'exports']);
  });

  test('stores and returns an object byte for byte', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    await s3.send(new PutObjectCommand({ Bucket: 'exports', Key: 'maps/one.zip', Body: body }));
    assert.deepEqual(await getBytes(s3, 'exports', 'maps/one.zip'), body);
  });

  test('refuses requests signed with other credentials', async () => {
    const stranger = s3For(server.endpoint, {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: 'not-the-secret',
    });
    try {
      await assert.rejects(stranger.send(new ListBucketsCommand({})), (error: unknown) => {
        assert.ok(error instanceof S3ServiceException);
        assert.equal(error.$metadata.httpStatusCode, 403);
        return true;
      });
    } finally {
      stranger.destroy();
    }
  });

  test('keeps its data in the folder it reports', () => {
    assert.ok(existsSync(server.dir));
    assert.ok(readdirSync(server.dir).length > 0);
  });
});

describe('startSeaweedS3', () => {
  for (const end of ['stop', 'kill'] as const) {
    test(`keeps buckets and objects across a ${end} and restart on the same folder and port`, async () => {
      const first = await startSeaweedS3({ buckets: ['exports'], ...credentials });
      // One client throughout, as a worker would hold one: the restart must not change the endpoint.
      const s3 = s3For(first.endpoint);
      const body = randomBytes(256 * 1024);
      try {
        await s3.send(new PutObjectCommand({ Bucket: 'exports', Key: 'survivor.bin', Body: body }));
        await first[end]();
        assert.equal(await acceptsConnections(first.endpoint), false);

        // No buckets asked for this time: the old one must come back from the folder, not from -bucket.
        const s3Port = Number(new URL(first.endpoint).port);
        const second = await startSeaweedS3({ dir: first.dir, s3Port, ...credentials });
        try {
          assert.equal(second.endpoint, first.endpoint);
          assert.equal(second.dir, first.dir);
          assert.deepEqual(await bucketNames(s3), ['exports']);
          assert.deepEqual(await getBytes(s3, 'exports', 'survivor.bin'), body);
        } finally {
          await second.stop();
        }
      } finally {
        s3.destroy();
        rmSync(first.dir, { recursive: true, force: true });
      }
    });
  }

  test('adds buckets asked for on a restart over existing data, on new ports', async () => {
    const first = await startSeaweedS3({ buckets: ['exports'], ...credentials });
    try {
      await first.stop();
      const second = await startSeaweedS3({
        dir: first.dir,
        buckets: ['exports', 'imports'],
        ...credentials,
      });
      const s3 = s3For(second.endpoint);
      try {
        assert.deepEqual(await bucketNames(s3), ['exports', 'imports']);
      } finally {
        s3.destroy();
        await second.stop();
      }
    } finally {
      rmSync(first.dir, { recursive: true, force: true });
    }
  });

  test('runs two servers side by side, each with its own data', async () => {
    const [one, two] = await Promise.all([
      startSeaweedS3({ buckets: ['one'], ...credentials }),
      startSeaweedS3({ buckets: ['two'], ...credentials }),
    ]);
    const clients = [s3For(one.endpoint), s3For(two.endpoint)];
    try {
      assert.notEqual(one.endpoint, two.endpoint);
      assert.deepEqual(await bucketNames(clients[0]), ['one']);
      assert.deepEqual(await bucketNames(clients[1]), ['two']);
    } finally {
      for (const client of clients) client.destroy();
      await Promise.all([one.stop(), two.stop()]);
      for (const server of [one, two]) rmSync(server.dir, { recursive: true, force: true });
    }
  });

  test('removes its Unix sockets from /tmp when it stops', async () => {
    const server = await startSeaweedS3({ ...credentials });
    try {
      assert.notDeepEqual(socketsOf(server), []);
      await server.stop();
      assert.deepEqual(socketsOf(server), []);
    } finally {
      rmSync(server.dir, { recursive: true, force: true });
    }
  });

  test("reports weed's own reason when it cannot start", async () => {
    // Holds the port; hangs up on whoever connects, so no probe connection keeps this test process alive.
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const s3Port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(startSeaweedS3({ s3Port, ...credentials }), (error: unknown) => {
        assert.ok(error instanceof ServerStartError);
        assert.equal(error.reason, 'exited');
        assert.match(error.message, /^weed mini exited \(code 1\) before it was ready/);
        assert.match(error.message, new RegExp(`Port allocation failed: port ${s3Port} for S3`));
        return true;
      });
    } finally {
      blocker.close();
    }
  });

  test('rejects an invalid bucket name before starting anything', async () => {
    await assert.rejects(
      startSeaweedS3({ buckets: ['Not_A_Bucket'], ...credentials }),
      /invalid S3 bucket name/,
    );
  });
});
