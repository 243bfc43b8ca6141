// The CARTO client against the emulator over real HTTP: URL forms, auth, relative file URLs, typed HTTP errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseAccountUrl } from '../../carto-api/account-url';
import { CartoClient } from '../../carto-api/carto-client';
import { CartoHttpError, CartoNetworkError, parseRetryAfter } from '../../carto-api/errors';
import { startEmulator, type RunningEmulator } from '../../carto-emulator/emulator';

let emulator: RunningEmulator;

/** Drops a body we only wanted the headers of; undici reports the abort as an error event. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }) {
  body.on('error', () => undefined);
  body.destroy();
}
before(async () => {
  emulator = await startEmulator({ exportDuration: 300, exportSize: 256 * 1024 });
});
after(async () => {
  await emulator?.close();
});

describe('account URLs', () => {
  test('read the user from each of the three forms', () => {
    assert.deepEqual(parseAccountUrl('https://alice.carto.com/'), {
      baseUrl: 'https://alice.carto.com',
      username: 'alice',
    });
    assert.deepEqual(parseAccountUrl('https://maps.example.org/user/bob'), {
      baseUrl: 'https://maps.example.org/user/bob',
      username: 'bob',
    });
    assert.deepEqual(parseAccountUrl('https://acme.carto.com/u/carol/'), {
      baseUrl: 'https://acme.carto.com/u/carol',
      username: 'carol',
    });
  });

  test('reject what cannot name a user', () => {
    assert.throws(() => parseAccountUrl('https://localhost:8080'), /cannot tell the user/);
    assert.throws(() => parseAccountUrl('https://a.carto.com/api/v1'), /path must be/);
    assert.throws(() => parseAccountUrl('https://a.carto.com/?api_key=x'), /query string/);
  });
});

describe('CartoClient', () => {
  const client = () => new CartoClient({ baseUrl: emulator.accountUrl('demo'), apiKey: 'demo-key' });
  const publicMap = () => emulator.maps('demo').find((m) => m.type === 'derived' && m.privacy === 'PUBLIC')!;

  test('creates an export, polls it to complete and downloads exactly the served file', async () => {
    const created = await client().createVisualizationExport(publicMap().id);
    assert.equal(created.state, 'pending');
    let current = created;
    while (current.state !== 'complete') {
      await new Promise((r) => setTimeout(r, 100));
      current = await client().getVisualizationExport(created.id);
      assert.notEqual(current.state, 'failure');
    }
    assert.ok(current.url);
    const download = await client().openExportFile(current.url);
    const chunks: Buffer[] = [];
    for await (const chunk of download.body) chunks.push(chunk as Buffer);
    const { readFileSync } = await import('node:fs');
    assert.ok(Buffer.concat(chunks).equals(readFileSync(emulator.exportFilePath(created.id)!)));
    assert.equal(download.contentLength, Buffer.concat(chunks).length);
  });

  test('resumes a download from an offset with a Range request', async () => {
    const created = await client().createVisualizationExport(publicMap().id);
    let current = created;
    while (current.state !== 'complete') {
      await new Promise((r) => setTimeout(r, 100));
      current = await client().getVisualizationExport(created.id);
    }
    const whole = await client().openExportFile(current.url!);
    discard(whole.body);
    const partial = await client().openExportFile(current.url!, { start: 1000, ifRange: whole.etag });
    discard(partial.body);
    assert.equal(partial.status, 206);
    assert.equal(partial.contentLength, (whole.contentLength ?? 0) - 1000);
    assert.deepEqual(partial.contentRange, {
      start: 1000,
      end: (whole.contentLength ?? 0) - 1,
      total: whole.contentLength,
    });
    // A validator that no longer matches gets the whole file, never a range of a different version.
    const changed = await client().openExportFile(current.url!, {
      start: 1000,
      ifRange: '"another-version"',
    });
    discard(changed.body);
    assert.equal(changed.status, 200);
    assert.equal(changed.contentRange, undefined);
  });

  test('sends credentials only to the account host', () => {
    const c = new CartoClient({ baseUrl: 'https://maps.example.org/user/bob', apiKey: 'k' });
    assert.deepEqual(c.resolveExportUrl('/api/v3/visualization_exports/1/download'), {
      url: new URL('https://maps.example.org/user/bob/api/v3/visualization_exports/1/download'),
      authenticated: true,
    });
    assert.equal(
      c.resolveExportUrl('/uploads/abc/map.carto').url.href,
      'https://maps.example.org/uploads/abc/map.carto',
    );
    assert.equal(
      c.resolveExportUrl('https://bucket.s3.amazonaws.com/x.carto?X-Amz-Signature=s').authenticated,
      false,
    );
  });

  test('raises typed HTTP errors with CARTO’s message and no credentials', async () => {
    const error = await client()
      .createVisualizationExport('00000000-0000-4000-8000-000000000000')
      .then(
        () => assert.fail('expected 404'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof CartoHttpError);
    assert.equal(error.status, 404);
    assert.match(error.message, /Visualization not found/);
    assert.doesNotMatch(error.message, /demo-key/);

    const unauthorized = await new CartoClient({ baseUrl: emulator.accountUrl('demo'), apiKey: 'wrong' })
      .getImport('00000000-0000-4000-8000-000000000000')
      .then(
        () => assert.fail('expected 401'),
        (e: unknown) => e,
      );
    assert.ok(unauthorized instanceof CartoHttpError);
    assert.equal(unauthorized.status, 401);
  });

  test('raises a network error when nothing answers', async () => {
    const dead = new CartoClient({ baseUrl: 'http://127.0.0.1:9/user/demo', apiKey: 'k', timeoutMs: 2000 });
    await assert.rejects(dead.getVisualizationExport('x'), CartoNetworkError);
  });

  test('parses Retry-After as seconds or a date', () => {
    assert.equal(parseRetryAfter('7'), 7000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
});
