// What a copy heartbeats: progress for people, and the checkpoint the next attempt resumes the multipart upload from.
import { z } from 'zod';

/**
 * Where an unfinished copy stands. Only a source with a strong ETag gets one: without a validator a resumed read could
 * splice two versions of the file together.
 */
export interface CopyCheckpoint {
  uploadId: string;
  partSize: number;
  /** The source's strong ETag, sent as `If-Range` when resuming. */
  sourceEtag: string;
  totalBytes: number;
  /** Base64 MD5s of parts 1..n, all landed and all `partSize` long: the contiguous prefix the next attempt keeps. */
  partMd5s: string[];
}

/** Heartbeat details of the copy: read by the Web UI, the progress query's fallback and the next attempt. */
export interface CopyProgress {
  bytesCopied: number;
  totalBytes: number | null;
  checkpoint?: CopyCheckpoint;
}

const checkpointSchema = z.object({
  uploadId: z.string().min(1),
  partSize: z.number().int().positive(),
  sourceEtag: z.string().startsWith('"'),
  totalBytes: z.number().int().nonnegative(),
  partMd5s: z.array(z.string().length(24)),
});

/**
 * The checkpoint in an earlier attempt's last heartbeat, if it left a usable one. Details come from another process
 * (maybe an older build), so they are checked rather than trusted; anything odd means starting over.
 */
export function checkpointFromHeartbeat(details: unknown): CopyCheckpoint | undefined {
  const parsed = z.object({ checkpoint: checkpointSchema }).safeParse(details);
  return parsed.success ? parsed.data.checkpoint : undefined;
}
