// The export download paths: exact bytes, validators, ranges, pre-signed expiry and the three url styles.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../carto-emulator/emulator';
import { basic, completedExport, emulator, seededMap, sleep } from './emulator-fixtures';

describe('export downloads through a pre-signed url', () => {
  let running: RunningEmulator;
  let url: string;
  let expected: Buffer;
  before(async () => {
    running = await emulator();
    const done = await completedExport(running, seededMap(running).id);
    url = String(done.url);
    expected = await readFile(running.exportFilePath(String(done.id)) as string);
  });
  after(() => running.close());

  it('serves exactly the bytes of exportFilePath with S3-like headers', async () => {
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), expected);
    assert.equal(response.headers.get('content-type'), 'application/zip');
    assert.equal(response.headers.get('content-length'), String(expected.length));
    assert.equal(response.headers.get('accept-ranges'), 'bytes');
    assert.match(response.headers.get('etag') ?? '', /^"[0-9a-f]+"$/);
    assert.ok(!Number.isNaN(Date.parse(response.headers.get('last-modified') ?? '')));
    assert.match(
      response.headers.get('content-disposition') ?? '',
      /^attachment;filename="Store%20locations%201%20%28on%20\d{4}-\d\d-\d\d%20at%20\d\d\.\d\d\.\d\d%29\.carto";filename\*=utf-8''Store%20locations%201%20/,
    );
  });

  it('answers byte ranges with 206 and Content-Range, and 416 past the end', async () => {
    const partial = await fetch(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(partial.status, 206);
    assert.equal(partial.headers.get('content-range'), `bytes 100-199/${expected.length}`);
    assert.deepEqual(Buffer.from(await partial.arrayBuffer()), expected.subarray(100, 200));
    const tail = await fetch(url, { headers: { range: `bytes=${expected.length - 10}-` } });
    assert.equal(tail.status, 206);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), expected.subarray(expected.length - 10));
    const beyond = await fetch(url, { headers: { range: `bytes=${expected.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${expected.length}`);
    await beyond.arrayBuffer();
  });

  it('honours If-Range: a matching ETag keeps the range, another one sends the whole file', async () => {
    const etag = (await fetch(url, { method: 'HEAD' })).headers.get('etag') as string;
    const same = await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': etag } });
    assert.equal(same.status, 206);
    assert.deepEqual(Buffer.from(await same.arrayBuffer()), expected.subarray(0, 10));
    const changed = await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': '"something-else"' } });
    assert.equal(changed.status, 200);
    assert.equal(Buffer.from(await changed.arrayBuffer()).length, expected.length);
  });

  it('logs every file it served: status, first byte and bytes sent', async () => {
    const exportId = running.downloads().at(-1)?.exportId as string;
    const before = running.downloads(exportId).length;
    await (await fetch(url, { headers: { range: 'bytes=1000-' } })).arrayBuffer();
    await (await fetch(url)).arrayBuffer();
    // A record is written once the server has finished its side of the response, just after the client has read it.
    for (let waited = 0; running.downloads(exportId).length < before + 2 && waited < 2000; waited += 20)
      await sleep(20);
    assert.deepEqual(running.downloads(exportId).slice(before), [
      { exportId, status: 206, rangeStart: 1000, bytesSent: expected.length - 1000 },
      { exportId, status: 200, rangeStart: 0, bytesSent: expected.length },
    ]);
    assert.deepEqual(running.downloads('00000000-0000-0000-0000-000000000000'), []);
  });

  it('refuses a tampered signature and an unsigned request with S3 XML errors', async () => {
    const tampered = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    );
    const badSignature = await fetch(tampered);
    assert.equal(badSignature.status, 403);
    assert.match(await badSignature.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    const unsigned = await fetch(url.split('?')[0]);
    assert.equal(unsigned.status, 403);
    assert.match(await unsigned.text(), /<Code>AccessDenied<\/Code>/);
  });
});

describe('pre-signed url expiry', () => {
  it('returns 403 AccessDenied "Request has expired" once urlTtl has passed', async () => {
    const running = await emulator({ urlTtl: 2000 });
    try {
      const done = await completedExport(running, seededMap(running).id);
      const url = String(done.url);
      assert.match(url, /X-Amz-Expires=2&/);
      assert.equal((await fetch(url)).status, 200);
      await sleep(2100);
      const expired = await fetch(url);
      assert.equal(expired.status, 403);
      assert.equal(expired.headers.get('content-type'), 'application/xml');
      const text = await expired.text();
      assert.match(text, /<Code>AccessDenied<\/Code>/);
      assert.match(text, /<Message>Request has expired<\/Message>/);
    } finally {
      await running.close();
    }
  });
});

describe('relative export urls', () => {
  it("serves the 'uploads' form without auth, resolved against the account URL or the server root", async () => {
    const running = await emulator({ urlStyle: 'uploads' });
    try {
      const done = await completedExport(running, seededMap(running).id);
      const relative = String(done.url);
      assert.match(relative, /^\/uploads\/[0-9a-f]{20}\/Store locations 1 \(on .*\)\.carto$/);
      const expected = await readFile(running.exportFilePath(String(done.id)) as string);
      for (const absolute of [
        `${running.accountUrl('demo')}${relative}`,
        new URL(relative, running.url).href,
      ]) {
        const response = await fetch(absolute);
        assert.equal(response.status, 200, absolute);
        assert.deepEqual(Buffer.from(await response.arrayBuffer()), expected);
      }
    } finally {
      await running.close();
    }
  });

  it("serves the 'download' form only to the exporter, like GET of the export", async () => {
    const running = await emulator({ urlStyle: 'download' });
    try {
      const done = await completedExport(running, seededMap(running).id);
      assert.equal(done.url, `/api/v3/visualization_exports/${done.id}/download`);
      const absolute = `${running.accountUrl('demo')}${done.url}`;
      const anonymous = await fetch(absolute);
      assert.equal(anonymous.status, 403);
      await anonymous.arrayBuffer();
      const owner = await fetch(absolute, { headers: { authorization: basic('demo', 'demo-key') } });
      assert.equal(owner.status, 200);
      const expected = await readFile(running.exportFilePath(String(done.id)) as string);
      assert.deepEqual(Buffer.from(await owner.arrayBuffer()), expected);
    } finally {
      await running.close();
    }
  });
});

describe('determinism', () => {
  it('gives byte-identical files and the same map ids from two emulators with the same options', async () => {
    const first = await emulator();
    const second = await emulator();
    try {
      assert.deepEqual(first.maps(), second.maps());
      const digests = await Promise.all(
        [first, second].map(async (running) => {
          const done = await completedExport(running, seededMap(running).id);
          const bytes = await readFile(running.exportFilePath(String(done.id)) as string);
          return createHash('sha256').update(bytes).digest('hex');
        }),
      );
      assert.equal(digests[0], digests[1]);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
