// cutIntoParts: fixed-size parts whatever the chunking of the source, and source failures told apart.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { cutIntoParts, SourceReadError } from '../../activities/part-cutter';

async function partsOf(source: Readable, partSize: number): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for await (const part of cutIntoParts(source, partSize)) parts.push(Buffer.from(part));
  return parts;
}

describe('cutIntoParts', () => {
  const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

  test('cuts full parts and a shorter last one, however the source is chunked', async () => {
    for (const chunkSize of [1, 7, 10, 33, 100]) {
      const chunks = [];
      for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
      const parts = await partsOf(Readable.from(chunks), 30);
      assert.deepEqual(
        parts.map((p) => p.length),
        [30, 30, 30, 10],
        `chunks of ${chunkSize}`,
      );
      assert.ok(Buffer.concat(parts).equals(bytes), `same bytes for chunks of ${chunkSize}`);
    }
  });

  test('yields nothing for an empty source and no short part when the size divides evenly', async () => {
    assert.deepEqual(await partsOf(Readable.from([]), 30), []);
    assert.deepEqual(
      (await partsOf(Readable.from([bytes]), 25)).map((p) => p.length),
      [25, 25, 25, 25],
    );
  });

  test('reports a failing source as SourceReadError with the bytes read before it', async () => {
    const source = new Readable({ read() {} });
    source.push(bytes.subarray(0, 45));
    setImmediate(() => source.destroy(new Error('socket hang up')));
    const parts: Buffer[] = [];
    const error = await (async () => {
      for await (const part of cutIntoParts(source, 30)) parts.push(part);
    })().then(
      () => assert.fail('expected the source error'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SourceReadError);
    assert.equal(error.bytesRead, 45);
    assert.match(error.message, /socket hang up/);
    assert.deepEqual(
      parts.map((p) => p.length),
      [30],
      'the full part before the failure was yielded; the partial one was not',
    );
  });
});
