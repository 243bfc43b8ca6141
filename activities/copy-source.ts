// Where a copy attempt starts reading: the export file from byte 0, or after the parts an earlier attempt left in S3.
import type { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CartoClient, CartoDownload } from '../carto-api/carto-client';
import { FailureType } from '../contract/export-visualization';
import { toCartoFailure } from './carto-failures';
import type { CopyCheckpoint } from './copy-checkpoint';
import { listUploadedParts, partEtag, type MultipartTarget } from './multipart-upload';

/** Which export's file to copy. */
export interface CopySourceInput {
  account: string;
  exportId: string;
}

const S3_MAX_PARTS = 10_000;

/** Where this attempt starts: a fresh upload from byte 0, or an earlier attempt's upload from its last kept part. */
export interface CopyStart {
  download: CartoDownload;
  uploadId: string | undefined;
  partSize: number;
  /** MD5s of the parts already in S3 (none for a fresh copy). */
  keptMd5s: Buffer[];
  /** The strong ETag that makes this copy resumable, when the source has one and serves ranges. */
  sourceEtag: string | undefined;
  totalBytes: number | null;
}

/** The file's URL, read now rather than carried in history: pre-signed URLs are credentials for two hours. */
export async function currentExportUrl(carto: CartoClient, input: CopySourceInput): Promise<string> {
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
export async function openCopySource(
  source: {
    carto: CartoClient;
    url: string;
    input: CopySourceInput;
    target: MultipartTarget;
    /** The part size to use for a fresh copy (grown for files that would need more than 10,000 parts). */
    partSize: number;
  },
  checkpoint: CopyCheckpoint | undefined,
): Promise<CopyStart> {
  const { carto, url, input, target } = source;
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
    partSize: Math.max(source.partSize, totalBytes ? Math.ceil(totalBytes / S3_MAX_PARTS) : 0),
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

/** Drops a response body we will not read; undici reports the abort as an error, which nobody needs to hear. */
export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}
