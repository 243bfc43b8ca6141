// The S3 multipart-upload calls a resumable copy needs: start, upload a part, list what landed, complete, abort.
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface MultipartTarget {
  s3: S3Client;
  bucket: string;
  key: string;
}

export async function createMultipartUpload(
  target: MultipartTarget,
  metadata: Record<string, string>,
): Promise<string> {
  const created = await target.s3.send(
    new CreateMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      ContentType: 'application/zip',
      Metadata: metadata,
    }),
  );
  if (!created.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  return created.UploadId;
}

/**
 * Uploads one part with its Content-MD5, so S3 itself refuses a part that arrives damaged, and checks the ETag S3
 * answers is that MD5.
 */
export async function uploadPart(
  target: MultipartTarget,
  uploadId: string,
  partNumber: number,
  body: Buffer,
  md5: Buffer,
  abortSignal: AbortSignal,
): Promise<void> {
  const uploaded = await target.s3.send(
    new UploadPartCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: body,
      ContentLength: body.length,
      ContentMD5: md5.toString('base64'),
    }),
    { abortSignal },
  );
  if (uploaded.ETag !== partEtag(md5)) {
    throw new Error(`part ${partNumber} was stored with ETag ${uploaded.ETag}, expected ${partEtag(md5)}`);
  }
}

/** Parts S3 holds for the upload, by part number; `undefined` when the upload no longer exists. */
export async function listUploadedParts(
  target: MultipartTarget,
  uploadId: string,
): Promise<Map<number, { etag: string; size: number }> | undefined> {
  const parts = new Map<number, { etag: string; size: number }>();
  let marker: string | undefined;
  try {
    do {
      const page = await target.s3.send(
        new ListPartsCommand({
          Bucket: target.bucket,
          Key: target.key,
          UploadId: uploadId,
          PartNumberMarker: marker,
        }),
      );
      for (const part of page.Parts ?? []) {
        if (part.PartNumber && part.ETag)
          parts.set(part.PartNumber, { etag: part.ETag, size: part.Size ?? -1 });
      }
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchUpload') return undefined;
    throw error;
  }
  return parts;
}

/** Completes the upload from the parts' MD5s, in part-number order. */
export async function completeMultipartUpload(
  target: MultipartTarget,
  uploadId: string,
  partMd5s: Buffer[],
): Promise<void> {
  await target.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: uploadId,
      MultipartUpload: {
        Parts: partMd5s.map((md5, index) => ({ PartNumber: index + 1, ETag: partEtag(md5) })),
      },
    }),
  );
}

/**
 * Aborts the upload and makes sure it stays gone: a part still in flight when the abort lands can revive the upload
 * on some S3-compatible servers (SeaweedFS), so the abort is repeated until ListParts says the upload is gone.
 */
export async function abortMultipartUpload(target: MultipartTarget, uploadId: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await target.s3
      .send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }))
      .catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 250));
    try {
      await target.s3.send(
        new ListPartsCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchUpload') return;
    }
  }
  // Still there after five seconds (or S3 unreachable): the bucket's AbortIncompleteMultipartUpload lifecycle rule is the backstop.
}

/** Aborts every unfinished upload of the key except `keep`: what crashed attempts and abandoned copies left. */
export async function abortUploadsOfKey(target: MultipartTarget, keep?: string): Promise<number> {
  const listed = await target.s3.send(
    new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: target.key }),
  );
  let aborted = 0;
  for (const upload of listed.Uploads ?? []) {
    if (upload.Key !== target.key || !upload.UploadId || upload.UploadId === keep) continue;
    await abortMultipartUpload(target, upload.UploadId);
    aborted += 1;
  }
  return aborted;
}

/** The ETag S3 gives a part (or a single-PUT object): its MD5 in hex, quoted. */
export function partEtag(md5: Buffer): string {
  return `"${md5.toString('hex')}"`;
}

/**
 * The ETag S3 computes for a completed multipart object: md5(md5(part1) ‖ … ‖ md5(partN)) + "-N". Computed from the
 * source bytes' MD5s, it checks end to end that the object holds exactly those parts.
 */
export function multipartEtag(partMd5s: Buffer[]): string {
  return `"${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-${partMd5s.length}"`;
}
