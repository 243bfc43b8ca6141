// Activity that streams a complete export's .carto file from CARTO into S3, resumably, and verifies what landed.
//
// The multipart upload is driven part by part rather than through lib-storage's Upload: lib-storage cannot resume an
// upload, and resuming after a dead worker (checkpoint in heartbeats, ListParts, a Range read of the source) is the
// point of this activity.
import { createHash, type Hash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type MetricMeter } from '@temporalio/common';
import { FailureType, type StoredObject } from '../contract/export-visualization';
import type { CartoAccounts } from './carto-accounts';
import { checkpointFromHeartbeat, type CopyCheckpoint, type CopyProgress } from './copy-checkpoint';
import { CopyProgressReporter, type SendCopyProgress } from './copy-progress-reporter';
import { currentExportUrl, discard, openCopySource } from './copy-source';
import {
  abortUploadsOfKey,
  completeMultipartUpload,
  createMultipartUpload,
  multipartEtag,
  uploadPart,
  type MultipartTarget,
} from './multipart-upload';
import { uploadInParts } from './parallel-part-upload';
import { SourceReadError } from './part-cutter';
import { s3Uri } from './s3-client';
import { sha256OfObject, verifyStoredObject } from './stored-object-check';

export interface CopySettings {
  /** Multipart part size; memory stays near (queueSize + 1) × partSize whatever the file size. */
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

export interface AbortCopyInput {
  bucket?: string;
  key: string;
}

export type { CopyProgress } from './copy-checkpoint';

class ShortSourceError extends Error {
  override name = 'ShortSourceError';
}

export function createCopyActivities(deps: {
  accounts: CartoAccounts;
  s3: S3Client;
  defaultBucket?: string;
  copy: CopySettings;
  sendCopyProgress?: SendCopyProgress;
}) {
  const targetOf = (bucket: string | undefined, key: string): MultipartTarget => {
    const resolved = bucket ?? deps.defaultBucket;
    if (!resolved) {
      throw ApplicationFailure.nonRetryable(
        'No destination bucket: set destination.bucket in the input or CARTO_FERRY_BUCKET on the worker.',
        FailureType.InvalidInput,
      );
    }
    return { s3: deps.s3, bucket: resolved, key };
  };

  return {
    async copyExportToS3(input: CopyExportInput): Promise<StoredObject> {
      const target = targetOf(input.bucket, input.key);
      const activity = Context.current();
      try {
        return await copyResumably(input, target, deps);
      } catch (thrown) {
        const error = thrown instanceof ApplicationFailure ? thrown : destinationFailure(thrown, target);
        // Abandoned for good (cancelled, or a failure no retry can fix): nothing may be left in S3. A retryable
        // failure keeps its upload, which the next attempt resumes from its checkpoint.
        if (activity.cancellationSignal.aborted || error.nonRetryable) {
          await abortUploadsOfKey(target).catch(() => undefined);
        }
        if (activity.cancellationSignal.aborted) await activity.cancelled;
        throw error;
      }
    },

    /**
     * Aborts every unfinished upload of the key. The workflow runs it when it gives up on a copy (retries exhausted,
     * or cancelled while no attempt was running to clean up after itself).
     */
    async abortCopyUploads(input: AbortCopyInput): Promise<number> {
      return abortUploadsOfKey(targetOf(input.bucket, input.key));
    },
  };
}

async function copyResumably(
  input: CopyExportInput,
  target: MultipartTarget,
  deps: { accounts: CartoAccounts; copy: CopySettings; sendCopyProgress?: SendCopyProgress },
): Promise<StoredObject> {
  const activity = Context.current();
  const carto = deps.accounts.client(input.account);
  const url = await currentExportUrl(carto, input);
  const start = await openCopySource(
    { carto, url, input, target, partSize: deps.copy.partSize },
    checkpointFromHeartbeat(activity.info.heartbeatDetails),
  );
  const { download, partSize, sourceEtag, totalBytes } = start;
  const resumed = start.uploadId !== undefined;
  const offset = start.keptMd5s.length * partSize;
  if (resumed) {
    activity.log.info('Resuming copy', {
      uploadId: start.uploadId,
      partsKept: start.keptMd5s.length,
      offset,
    });
  }

  const partMd5s: Buffer[] = [...start.keptMd5s];
  let position = offset;
  let uploadId: string | undefined = start.uploadId;
  // Parts 1..checkpointed are landed and full-size; the last part never counts, so a resume always has bytes to read.
  let checkpointed = partMd5s.length;
  const checkpoint = (): CopyCheckpoint | undefined =>
    uploadId && sourceEtag && totalBytes !== null
      ? {
          uploadId,
          partSize,
          sourceEtag,
          totalBytes,
          partMd5s: partMd5s.slice(0, checkpointed).map((md5) => md5.toString('base64')),
        }
      : undefined;
  const reporter = new CopyProgressReporter(
    deps.sendCopyProgress,
    activity.info.workflowExecution?.workflowId ?? '',
    totalBytes,
  );
  // Heartbeat on a clock, not on data: a stalled download must still tell the server this worker is alive, and
  // heartbeats are what deliver cancellation to a running activity.
  const beat = () =>
    activity.heartbeat({
      bytesCopied: position,
      totalBytes,
      checkpoint: checkpoint(),
    } satisfies CopyProgress);
  beat();
  const heartbeats = setInterval(beat, 1000);
  const startedAt = Date.now();
  const sha256: Hash | undefined = resumed ? undefined : createHash('sha256');

  try {
    // Crashed attempts and abandoned copies of this key could not abort their uploads; do it for them.
    await abortUploadsOfKey(target, uploadId);
    uploadId ??= await createMultipartUpload(target, {
      'carto-export-id': input.exportId,
      'carto-visualization-id': input.visualizationId,
    });
    const cancelUploads = new AbortController();
    const onCancel = () => cancelUploads.abort();
    activity.cancellationSignal.addEventListener('abort', onCancel);
    try {
      await uploadInParts({
        target,
        uploadId,
        source: download.body,
        partSize,
        firstPartNumber: partMd5s.length + 1,
        queueSize: deps.copy.queueSize,
        signal: cancelUploads.signal,
        onPartRead(body) {
          sha256?.update(body);
          position += body.length;
          reporter.observe(position);
        },
        onPartStored(partNumber, md5) {
          partMd5s[partNumber - 1] = md5;
          while (
            partMd5s[checkpointed] &&
            totalBytes !== null &&
            (checkpointed + 1) * partSize < totalBytes
          ) {
            checkpointed += 1;
          }
        },
      });
    } finally {
      activity.cancellationSignal.removeEventListener('abort', onCancel);
    }
    if (totalBytes !== null && position !== totalBytes) {
      throw new ShortSourceError(`source ended after ${position} of ${totalBytes} bytes`);
    }
    if (partMd5s.length === 0) {
      // An empty file still needs one (empty) part.
      const md5 = createHash('md5').digest();
      await uploadPart(target, uploadId, 1, Buffer.alloc(0), md5, activity.cancellationSignal);
      partMd5s.push(md5);
    }
    await completeMultipartUpload(target, uploadId, partMd5s);
    uploadId = undefined;
  } catch (error) {
    discard(download.body);
    if (activity.cancellationSignal.aborted) throw error;
    // Record how far this attempt got, so the next one resumes from there.
    beat();
    if (error instanceof SourceReadError || error instanceof ShortSourceError) {
      const reached = error instanceof SourceReadError ? offset + error.bytesRead : position;
      throw ApplicationFailure.create({
        message: `Download of export ${input.exportId} broke off after ${reached} bytes: ${error.message}`,
        type: FailureType.CartoUnavailable,
        nonRetryable: false,
      });
    }
    throw error;
  } finally {
    clearInterval(heartbeats);
  }

  const stored = await verifyStoredObject(target, position, multipartEtag(partMd5s));
  // A resumed copy never saw the first parts' bytes; their SHA-256 comes from reading back what S3 now holds.
  const checksum = `sha256:${(sha256 ?? (await sha256OfObject(target))).digest('hex')}`;
  recordCopy(activity.metricMeter, input.account, position - offset, (Date.now() - startedAt) / 1000);
  activity.heartbeat({ bytesCopied: stored.size, totalBytes: stored.size } satisfies CopyProgress);
  return { ...stored, checksum };
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

function destinationFailure(error: unknown, target: MultipartTarget): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const name = (error as { name?: string }).name ?? 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const where = s3Uri(target.bucket, target.key);
  const message = `Writing ${where} failed: ${name}${status ? ` (${status})` : ''}: ${error instanceof Error ? error.message : String(error)}`;
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
