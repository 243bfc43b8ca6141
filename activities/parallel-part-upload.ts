// Uploads a byte stream as consecutive parts of a multipart upload, a few at a time, holding at most that many parts.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { cutIntoParts } from './part-cutter';
import { uploadPart, type MultipartTarget } from './multipart-upload';

export interface PartUploadOptions {
  target: MultipartTarget;
  uploadId: string;
  source: Readable;
  partSize: number;
  /** Part number of the source's first byte: 1 for a fresh copy, one past the kept parts for a resumed one. */
  firstPartNumber: number;
  /** Parts in flight at once; memory stays near (queueSize + 1) × partSize. */
  queueSize: number;
  signal: AbortSignal;
  /** Each part as it is cut, in order, before it is sent. */
  onPartRead(body: Buffer): void;
  /** Each part once S3 has stored it (in any order). */
  onPartStored(partNumber: number, md5: Buffer): void;
}

/**
 * Returns once every part has been stored. A failing part stops further reads; the parts already in flight are
 * awaited before the first failure is rethrown, so `onPartStored` has seen everything that landed. A source that
 * breaks raises `SourceReadError` (after the in-flight parts, likewise).
 */
export async function uploadInParts(options: PartUploadOptions): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let partNumber = options.firstPartNumber - 1;
  try {
    for await (const body of cutIntoParts(options.source, options.partSize)) {
      partNumber += 1;
      const number = partNumber;
      const md5 = createHash('md5').update(body).digest();
      options.onPartRead(body);
      const sending = uploadPart(options.target, options.uploadId, number, body, md5, options.signal).then(
        () => options.onPartStored(number, md5),
        (error: unknown) => {
          failure ??= error;
        },
      );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
      while (inFlight.size >= options.queueSize) await Promise.race(inFlight);
      if (failure) break;
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  return partNumber - options.firstPartNumber + 1;
}
