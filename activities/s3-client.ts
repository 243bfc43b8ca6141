// Builds the S3 client from validated settings, tuned for S3-compatible servers as well as AWS.
import { S3Client } from '@aws-sdk/client-s3';

export interface S3Settings {
  /** Custom endpoint (SeaweedFS, MinIO, ...); AWS when absent. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Static credentials; the SDK's default chain (env, profile, IMDS) when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * SDK v3 adds CRC32 checksums and aws-chunked bodies by default ('WHEN_SUPPORTED'); several S3-compatible servers
   * mishandle them, so custom endpoints default to 'WHEN_REQUIRED'.
   */
  checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
}

export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.credentials,
    requestChecksumCalculation: settings.checksums,
    responseChecksumValidation: settings.checksums,
  });
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
