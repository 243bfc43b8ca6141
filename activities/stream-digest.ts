// A pass-through stream that measures what flows through it: bytes, SHA-256, and the S3 multipart ETag to expect.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * S3 computes a multipart object's ETag as md5(md5(part1) ‖ … ‖ md5(partN)) + "-N" over the bytes it received, and a
 * single PUT's as md5(body). Computing the same from the source bytes lets us check the stored object end to end.
 * Parts are cut every `partSize` bytes, as the uploader cuts them.
 */
export class StreamDigest extends Transform {
  bytes = 0;
  readonly #sha256: Hash = createHash('sha256');
  readonly #partSize: number;
  readonly #partDigests: Buffer[] = [];
  #part: Hash = createHash('md5');
  #partBytes = 0;
  readonly #expectedBytes: number | undefined;
  readonly #onProgress: ((bytes: number) => void) | undefined;

  constructor(options: { partSize: number; expectedBytes?: number; onProgress?: (bytes: number) => void }) {
    super();
    this.#partSize = options.partSize;
    this.#expectedBytes = options.expectedBytes;
    this.#onProgress = options.onProgress;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#sha256.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.#partSize - this.#partBytes, chunk.length - offset);
      this.#part.update(chunk.subarray(offset, offset + take));
      this.#partBytes += take;
      offset += take;
      if (this.#partBytes === this.#partSize) this.#closePart();
    }
    this.bytes += chunk.length;
    this.#onProgress?.(this.bytes);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    // Failing here, before the stream ends, makes the uploader abort instead of completing a short object.
    if (this.#expectedBytes !== undefined && this.bytes !== this.#expectedBytes) {
      callback(new Error(`source ended after ${this.bytes} of ${this.#expectedBytes} bytes`));
      return;
    }
    callback();
  }

  #closePart(): void {
    this.#partDigests.push(this.#part.digest());
    this.#part = createHash('md5');
    this.#partBytes = 0;
  }

  /** `sha256:<hex>`; call once the stream has ended. */
  get checksum(): string {
    return `sha256:${this.#sha256.copy().digest('hex')}`;
  }

  /** The ETag S3 should report for the stored object, quotes included. */
  get expectedEtag(): string {
    const digests = [...this.#partDigests];
    if (this.#partBytes > 0 || digests.length === 0) digests.push(this.#part.copy().digest());
    if (digests.length === 1) return `"${digests[0].toString('hex')}"`;
    return `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}"`;
  }
}
