// Checks an object that landed in S3 against the source's bytes, and reads it back for its SHA-256 when needed.
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type StoredObject } from '../contract/export-visualization';
import type { MultipartTarget } from './multipart-upload';
import { s3Uri } from './s3-client';

/** Confirms size and ETag of the stored object against the source's bytes; deletes it when they disagree. */
export async function verifyStoredObject(
  target: MultipartTarget,
  size: number,
  expectedEtag: string,
): Promise<Omit<StoredObject, 'checksum'>> {
  const { s3, bucket, key } = target;
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  // SSE-KMS and SSE-C objects have ETags that are not MD5-based, so only their size can be compared.
  const etagComparable = head.ServerSideEncryption !== 'aws:kms' && !head.SSECustomerAlgorithm;
  const problems: string[] = [];
  if (head.ContentLength !== size) problems.push(`size ${head.ContentLength} instead of ${size}`);
  if (etagComparable && head.ETag !== expectedEtag)
    problems.push(`ETag ${head.ETag} instead of ${expectedEtag}`);
  if (problems.length) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    throw ApplicationFailure.create({
      message: `${s3Uri(bucket, key)} did not match the source (${problems.join(', ')}); it was deleted and the copy will be retried.`,
      type: FailureType.IntegrityCheckFailed,
      nonRetryable: false,
    });
  }
  return { bucket, key, uri: s3Uri(bucket, key), size };
}

export async function sha256OfObject(target: MultipartTarget): Promise<Hash> {
  const object = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: target.key }));
  const hash = createHash('sha256');
  for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
  return hash;
}
