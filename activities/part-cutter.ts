// Cuts a byte stream into multipart-upload parts of a fixed size, holding one part in memory at a time.
import type { Readable } from 'node:stream';

/** The source failed while being read (as opposed to the destination failing while being written). */
export class SourceReadError extends Error {
  override name = 'SourceReadError';
  constructor(
    readonly bytesRead: number,
    options: { cause: unknown },
  ) {
    super(options.cause instanceof Error ? options.cause.message : String(options.cause), options);
  }
}

/**
 * Yields `partSize`-byte buffers (the last one shorter) from `source`. Each buffer is freshly allocated and filled in
 * place, so a part costs `partSize` bytes once rather than twice as a concat of chunks would. A source that errors
 * raises `SourceReadError`.
 */
export async function* cutIntoParts(source: Readable, partSize: number): AsyncGenerator<Buffer> {
  let part = Buffer.allocUnsafe(partSize);
  let filled = 0;
  let bytesRead = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      let offset = 0;
      while (offset < chunk.length) {
        const copied = chunk.copy(part, filled, offset);
        filled += copied;
        offset += copied;
        if (filled === partSize) {
          yield part;
          part = Buffer.allocUnsafe(partSize);
          filled = 0;
        }
      }
    }
  } catch (error) {
    throw new SourceReadError(bytesRead, { cause: error });
  }
  if (filled > 0) yield part.subarray(0, filled);
}
