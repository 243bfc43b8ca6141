// Activity that streams a complete export's .carto file from CARTO into S3, resumably, and verifies what landed.
//
// The multipart upload is driven part by part rather than through lib-storage's Upload: lib-storage cannot resume an
// upload, and resuming after a dead worker (checkpoint in heartbeats, ListParts, a Range read of the source) is the
// point of this activity.
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type MetricMeter } from '@temporalio/common';
import type { CartoClient, CartoDownload } from '../carto-api/carto-client';
import { FailureType, type StoredObject } from '../contract/export-visualization';
import type { CartoAccounts } from './carto-accounts';
import { toCartoFailure } from './carto-failures';
import { checkpointFromHeartbeat, type CopyCheckpoint, type CopyProgress } from './copy-checkpoint';
import { CopyProgressReporter, type SendCopyProgress } from './copy-progress-reporter';
import {
  abortUploadsOfKey,
  completeMultipartUpload,
  createMultipartUpload,
  listUploadedParts,
  multipartEtag,
  partEtag,
  uploadPart,
  type MultipartTarget,
} from './multipart-upload';
import { cutIntoParts, SourceReadError } from './part-cutter';
import { s3Uri } from './s3-client';

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

const S3_MAX_PARTS = 10_000;

/** Where this attempt starts: a fresh upload from byte 0, or an earlier attempt's upload from its last kept part. */
interface CopyStart {
  download: CartoDownload;
  uploadId: string | undefined;
  partSize: number;
  /** MD5s of the parts already in S3 (none for a fresh copy). */
  keptMd5s: Buffer[];
  /** The strong ETag that makes this copy resumable, when the source has one and serves ranges. */
  sourceEtag: string | undefined;
  totalBytes: number | null;
}

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
  const start = await openSource(
    { carto, url, input, target, settings: deps.copy },
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
    const inFlight = new Set<Promise<void>>();
    let uploadFailure: unknown;
    const cancelUploads = new AbortController();
    const onCancel = () => cancelUploads.abort();
    activity.cancellationSignal.addEventListener('abort', onCancel);
    try {
      let partNumber = partMd5s.length;
      for await (const body of cutIntoParts(download.body, partSize)) {
        partNumber += 1;
        const number = partNumber;
        const md5 = createHash('md5').update(body).digest();
        sha256?.update(body);
        position += body.length;
        reporter.observe(position);
        const sending = uploadPart(target, uploadId, number, body, md5, cancelUploads.signal).then(
          () => {
            partMd5s[number - 1] = md5;
            while (
              partMd5s[checkpointed] &&
              totalBytes !== null &&
              (checkpointed + 1) * partSize < totalBytes
            ) {
              checkpointed += 1;
            }
          },
          (error: unknown) => {
            uploadFailure ??= error;
          },
        );
        inFlight.add(sending);
        void sending.finally(() => inFlight.delete(sending));
        while (inFlight.size >= deps.copy.queueSize) await Promise.race(inFlight);
        if (uploadFailure) break;
      }
    } finally {
      // Parts already on their way finish (or fail) before anything else: they may extend the checkpoint.
      await Promise.all(inFlight);
      activity.cancellationSignal.removeEventListener('abort', onCancel);
    }
    if (uploadFailure) throw uploadFailure;
    if (totalBytes !== null && position !== totalBytes) {
      throw new ShortSourceError(`source ended after ${position} of ${totalBytes} bytes`);
    }
    if (partMd5s.length === 0) {
      // An empty file still needs one (empty) part.
      const md5 = createHash('md5').digest();
      await uploadPart(target, uploadId, 1, Buffer.alloc(0), md5, cancelUploads.signal);
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
    throw destinationFailure(error, target);
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

/** The file's URL, read now rather than carried in history: pre-signed URLs are credentials for two hours. */
async function currentExportUrl(carto: CartoClient, input: CopyExportInput): Promise<string> {
  try {
    const current = await carto.getVisualizationExport(input.exportId);
    if (current.state !== 'complete' || !current.url) {
      throw ApplicationFailure.nonRetryable(
        `Export ${input.exportId} is ${current.state} and has no file to copy.`,
        FailureType.ExportFileUnavailable,
      );
    }
    return current.url;
  } catch (error) {
    throw toCartoFailure(error, { account: input.account, exportId: input.exportId, action: 'poll-export' });
  }
}

/**
 * Opens the source where this attempt should start. With an earlier attempt's checkpoint, the parts S3 still holds
 * with the MD5s the checkpoint recorded are kept, and the rest of the file is asked for with `Range` guarded by
 * `If-Range`: a 206 of the same file resumes; a 200 (the file changed, or ranges are not served) starts over with
 * that very response.
 */
async function openSource(
  source: {
    carto: CartoClient;
    url: string;
    input: CopyExportInput;
    target: MultipartTarget;
    settings: CopySettings;
  },
  checkpoint: CopyCheckpoint | undefined,
): Promise<CopyStart> {
  const { carto, url, input, target, settings } = source;
  const activity = Context.current();
  const open = async (range?: { start: number; ifRange: string }) => {
    try {
      return await carto.openExportFile(url, range, activity.cancellationSignal);
    } catch (error) {
      throw toCartoFailure(error, {
        account: input.account,
        exportId: input.exportId,
        action: 'download-export',
      });
    }
  };
  const kept = checkpoint ? await partsStillInS3(target, checkpoint) : [];
  let download: CartoDownload | undefined;
  if (checkpoint && kept.length > 0) {
    const start = kept.length * checkpoint.partSize;
    download = await open({ start, ifRange: checkpoint.sourceEtag });
    const range = download.contentRange;
    if (
      download.status === 206 &&
      range?.start === start &&
      range.total === checkpoint.totalBytes &&
      download.etag === checkpoint.sourceEtag
    ) {
      return {
        download,
        uploadId: checkpoint.uploadId,
        partSize: checkpoint.partSize,
        keptMd5s: kept,
        sourceEtag: checkpoint.sourceEtag,
        totalBytes: checkpoint.totalBytes,
      };
    }
    activity.log.warn('Source changed or cannot serve ranges; copying from the start', {
      status: download.status,
    });
    if (download.status !== 200) {
      discard(download.body);
      download = undefined;
    }
  }
  download ??= await open();
  const totalBytes = download.contentLength ?? null;
  const resumable = download.acceptRanges && totalBytes !== null && download.etag?.startsWith('"');
  return {
    download,
    uploadId: undefined,
    // S3 allows 10,000 parts: grow the part size for files that would need more.
    partSize: Math.max(settings.partSize, totalBytes ? Math.ceil(totalBytes / S3_MAX_PARTS) : 0),
    keptMd5s: [],
    sourceEtag: resumable ? download.etag : undefined,
    totalBytes,
  };
}

/** The checkpoint's parts that S3 still holds, exactly as recorded: the longest such prefix of part numbers. */
async function partsStillInS3(target: MultipartTarget, checkpoint: CopyCheckpoint): Promise<Buffer[]> {
  const inS3 = await listUploadedParts(target, checkpoint.uploadId);
  if (!inS3) return [];
  const kept: Buffer[] = [];
  for (const [index, encoded] of checkpoint.partMd5s.entries()) {
    const md5 = Buffer.from(encoded, 'base64');
    const part = inS3.get(index + 1);
    if (part?.etag !== partEtag(md5) || part.size !== checkpoint.partSize) break;
    kept.push(md5);
  }
  return kept;
}

/** Confirms size and ETag of the stored object against the source's bytes; deletes it when they disagree. */
async function verifyStoredObject(
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

async function sha256OfObject(target: MultipartTarget): Promise<Hash> {
  const object = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: target.key }));
  const hash = createHash('sha256');
  for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
  return hash;
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

/** Drops a response body we will not read; undici reports the abort as an error, which nobody needs to hear. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}
