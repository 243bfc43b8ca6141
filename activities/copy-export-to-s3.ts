// Activity that streams a complete export's .carto file from CARTO into S3 and verifies what landed.
import { pipeline } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type MetricMeter } from '@temporalio/common';
import { FailureType, type StoredObject } from '../contract/export-visualization';
import type { CartoAccounts } from './carto-accounts';
import { toCartoFailure } from './carto-failures';
import { CopyProgressReporter, type SendCopyProgress } from './copy-progress-reporter';
import { s3Uri } from './s3-client';
import { StreamDigest } from './stream-digest';

export interface CopySettings {
  /** Multipart part size; memory stays near (queueSize + 2) × partSize whatever the file size. */
  partSize: number;
  queueSize: number;
}

export interface CopyExportInput {
  account: string;
  exportId: string;
  visualizationId: string;
  bucket?: string;
  key: string;
}

/** Heartbeat details of the copy, read by the workflow's progress and by the next attempt. */
export interface CopyProgress {
  bytesCopied: number;
  totalBytes: number | null;
}

const S3_MAX_PARTS = 10_000;

export function createCopyActivities(deps: {
  accounts: CartoAccounts;
  s3: S3Client;
  defaultBucket?: string;
  copy: CopySettings;
  sendCopyProgress?: SendCopyProgress;
}) {
  return {
    async copyExportToS3(input: CopyExportInput): Promise<StoredObject> {
      const bucket = input.bucket ?? deps.defaultBucket;
      if (!bucket) {
        throw ApplicationFailure.nonRetryable(
          'No destination bucket: set destination.bucket in the input or CARTO_FERRY_BUCKET on the worker.',
          FailureType.InvalidInput,
        );
      }
      const carto = deps.accounts.client(input.account);
      const context = { account: input.account, exportId: input.exportId };
      const activity = Context.current();

      // The URL is read here rather than carried in history: pre-signed URLs are credentials for two hours.
      let url: string;
      try {
        const current = await carto.getVisualizationExport(input.exportId);
        if (current.state !== 'complete' || !current.url) {
          throw ApplicationFailure.nonRetryable(
            `Export ${input.exportId} is ${current.state} and has no file to copy.`,
            FailureType.ExportFileUnavailable,
          );
        }
        url = current.url;
      } catch (error) {
        throw toCartoFailure(error, { ...context, action: 'poll-export' });
      }

      let download;
      try {
        download = await carto.openExportFile(url, undefined, activity.cancellationSignal);
      } catch (error) {
        throw toCartoFailure(error, { ...context, action: 'download-export' });
      }

      const copyStartedAt = Date.now();
      const totalBytes = download.contentLength ?? null;
      // S3 allows 10,000 parts: grow the part size for files that would need more.
      const partSize = Math.max(deps.copy.partSize, totalBytes ? Math.ceil(totalBytes / S3_MAX_PARTS) : 0);
      const reporter = new CopyProgressReporter(
        deps.sendCopyProgress,
        activity.info.workflowExecution?.workflowId ?? '',
        totalBytes,
      );
      const digest = new StreamDigest({
        partSize,
        expectedBytes: totalBytes ?? undefined,
        onProgress: (bytes) => reporter.observe(bytes),
      });
      // Heartbeat on a clock, not on data: a stalled download must still tell the server this worker is alive, and
      // heartbeats are what deliver cancellation to a running activity.
      const beat = () => activity.heartbeat({ bytesCopied: digest.bytes, totalBytes } satisfies CopyProgress);
      beat();
      const heartbeats = setInterval(beat, 1000);
      let sourceError: Error | undefined;
      pipeline(download.body, digest, (error) => {
        if (error) sourceError = error;
      });

      // An earlier attempt that died with its worker could not abort its upload; do it for it.
      if (activity.info.attempt > 1) await abortStaleUploads(deps.s3, bucket, input.key);

      const upload = new Upload({
        client: deps.s3,
        partSize,
        queueSize: deps.copy.queueSize,
        // Abort the multipart upload on any failure: no dangling parts, no half-written object.
        leavePartsOnError: false,
        params: {
          Bucket: bucket,
          Key: input.key,
          Body: digest,
          ContentType: 'application/zip',
          Metadata: { 'carto-export-id': input.exportId, 'carto-visualization-id': input.visualizationId },
        },
      });
      const onCancel = () => void upload.abort();
      activity.cancellationSignal.addEventListener('abort', onCancel);
      try {
        await upload.done();
      } catch (error) {
        digest.destroy();
        download.body.destroy();
        // lib-storage aborts in the background once in-flight parts finish; abort now, so nothing is left when we return.
        await abortMultipartUpload(deps.s3, bucket, input.key, upload);
        if (activity.cancellationSignal.aborted) await activity.cancelled;
        if (sourceError) {
          throw ApplicationFailure.create({
            message: `Download of export ${input.exportId} broke off after ${digest.bytes} bytes: ${sourceError.message}`,
            type: FailureType.CartoUnavailable,
            nonRetryable: false,
          });
        }
        throw destinationFailure(error, bucket, input.key);
      } finally {
        clearInterval(heartbeats);
        activity.cancellationSignal.removeEventListener('abort', onCancel);
      }

      const stored = await verifyStoredObject(deps.s3, bucket, input.key, digest);
      recordCopy(activity.metricMeter, input.account, stored.size, (Date.now() - copyStartedAt) / 1000);
      activity.heartbeat({ bytesCopied: stored.size, totalBytes: stored.size } satisfies CopyProgress);
      return { ...stored, checksum: digest.checksum };
    },
  };
}

/**
 * Aborts the upload and makes sure it stays gone: lib-storage lets in-flight parts finish after its own abort, and some
 * S3-compatible servers (SeaweedFS) revive an aborted upload when such a late part lands.
 */
async function abortStaleUploads(s3: S3Client, bucket: string, key: string): Promise<void> {
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  for (const stale of listed.Uploads ?? []) {
    if (stale.Key !== key || !stale.UploadId) continue;
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: stale.UploadId }))
      .catch(() => undefined);
  }
}

function recordCopy(meter: MetricMeter, account: string, bytes: number, seconds: number): void {
  meter
    .createCounter('carto_ferry_bytes_copied', 'bytes', 'Bytes copied into S3')
    .withTags({ account })
    .add(bytes);
  meter
    .createHistogram(
      'carto_ferry_copy_throughput_mibps',
      'float',
      'MiB/s',
      'Throughput of each completed copy',
    )
    .withTags({ account })
    .record(bytes / 1024 / 1024 / Math.max(seconds, 0.001));
}

async function abortMultipartUpload(
  s3: S3Client,
  bucket: string,
  key: string,
  upload: Upload,
): Promise<void> {
  const uploadId = upload.uploadId;
  if (!uploadId) return;
  for (let attempt = 0; attempt < 20; attempt++) {
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 250));
    try {
      await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchUpload') return;
    }
  }
  // Still there after five seconds (or S3 unreachable): the bucket's AbortIncompleteMultipartUpload lifecycle rule is the backstop.
}

/** Confirms size and ETag of the stored object against the bytes that streamed; deletes it when they disagree. */
async function verifyStoredObject(
  s3: S3Client,
  bucket: string,
  key: string,
  digest: StreamDigest,
): Promise<Omit<StoredObject, 'checksum'>> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  // SSE-KMS and SSE-C objects have ETags that are not MD5-based, so only their size can be compared.
  const etagComparable = head.ServerSideEncryption !== 'aws:kms' && !head.SSECustomerAlgorithm;
  const problems: string[] = [];
  if (head.ContentLength !== digest.bytes)
    problems.push(`size ${head.ContentLength} instead of ${digest.bytes}`);
  if (etagComparable && head.ETag !== digest.expectedEtag)
    problems.push(`ETag ${head.ETag} instead of ${digest.expectedEtag}`);
  if (problems.length) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    throw ApplicationFailure.create({
      message: `${s3Uri(bucket, key)} did not match the source (${problems.join(', ')}); it was deleted and the copy will be retried.`,
      type: FailureType.IntegrityCheckFailed,
      nonRetryable: false,
    });
  }
  return { bucket, key, uri: s3Uri(bucket, key), size: digest.bytes };
}

function destinationFailure(error: unknown, bucket: string, key: string): ApplicationFailure {
  const name = (error as { name?: string }).name ?? 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const message = `Writing ${s3Uri(bucket, key)} failed: ${name}${status ? ` (${status})` : ''}: ${error instanceof Error ? error.message : String(error)}`;
  // A missing bucket or refused credentials will not fix themselves; everything else (network, 5xx) may.
  const permanent = [
    'NoSuchBucket',
    'AccessDenied',
    'InvalidAccessKeyId',
    'SignatureDoesNotMatch',
    'InvalidBucketName',
  ].includes(name);
  return ApplicationFailure.create({
    message,
    type: FailureType.DestinationUnavailable,
    nonRetryable: permanent,
  });
}
