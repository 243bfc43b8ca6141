// Receives the file of an import POST (multipart `filename`/`file` field or raw body) straight onto disk.
import busboy from 'busboy';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { uploadToken } from './ids';
import { readParamsBody, stringParam, type Params } from './request-params';

export interface ReceivedFile {
  /** Where the bytes are; the directory mimics CARTO's `uploads/<token>/` layout. */
  path: string;
  /** The stored name: CARTO turns spaces into underscores (`allow_spaces: false`). */
  filename: string;
  size: number;
}

/**
 * Reads the request the way Rails and `FileUpload#upload_file_to_storage` do: multipart fields become params and a
 * `filename` file part wins over a `file` part; without multipart, `?filename=` makes the raw body the file.
 * Bodies are streamed to disk, never held in memory, so multi-GiB `.carto` uploads work.
 */
export async function receiveImportUpload(
  req: IncomingMessage,
  params: Params,
  uploadsDirectory: string,
): Promise<ReceivedFile | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'multipart/form-data') return receiveMultipart(req, params, uploadsDirectory);
  const rawName = stringParam(params, 'filename');
  if (rawName !== undefined && rawName.trim() !== '') return saveStream(req, rawName, uploadsDirectory);
  await readParamsBody(req, params);
  return undefined;
}

async function receiveMultipart(
  req: IncomingMessage,
  params: Params,
  uploadsDirectory: string,
): Promise<ReceivedFile | undefined> {
  const parts: Partial<Record<'filename' | 'file', Promise<ReceivedFile>>> = {};
  const parser = busboy({ headers: req.headers });
  parser.on('field', (name, value) => params.set(name, value));
  parser.on('file', (name, stream, info) => {
    if ((name === 'filename' || name === 'file') && parts[name] === undefined && info.filename) {
      parts[name] = saveStream(stream, info.filename, uploadsDirectory);
      // Keep busboy flowing if saving fails; the error surfaces when the part is awaited.
      parts[name].catch(() => stream.resume());
    } else {
      stream.resume();
    }
  });
  await pipeline(req, parser);
  const saved = await Promise.allSettled([parts.filename, parts.file]);
  const [byFilename, byFile] = saved.map((result) =>
    result.status === 'fulfilled' ? result.value : undefined,
  );
  const failure = saved.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all([byFilename, byFile].map((file) => file && discardUpload(file)));
    throw (failure as PromiseRejectedResult).reason;
  }
  if (byFilename && byFile) await discardUpload(byFile);
  return byFilename ?? byFile;
}

async function saveStream(
  source: Readable,
  originalName: string,
  uploadsDirectory: string,
): Promise<ReceivedFile> {
  const filename = basename(originalName.replace(/\\/g, '/')).replace(/ /g, '_') || 'upload';
  const directory = join(uploadsDirectory, uploadToken());
  await mkdir(directory, { recursive: true });
  const path = join(directory, filename);
  await pipeline(source, createWriteStream(path));
  const { size } = await stat(path);
  return { path, filename, size };
}

/** Uploads of requests that end in 401/400/429 are not kept. */
export async function discardUpload(file: ReceivedFile): Promise<void> {
  await rm(join(file.path, '..'), { recursive: true, force: true });
}
