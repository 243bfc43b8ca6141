// Visualization export jobs: their time-driven states and the seven-field presenter of API v3.
import type { ExportFile } from './export-files';

export type ExportState = 'pending' | 'exporting' | 'uploading' | 'complete' | 'failure';

/** An injected end (fault injection): `failure` when the export would have completed, or `stuck` in exporting. */
export type ExportFault = 'failure' | 'stuck';

export interface ExportJob {
  id: string;
  visualizationId: string;
  mapName: string;
  /** The exporting user's id; null for anonymous exports, which anyone may read. */
  userId: string | null;
  createdAt: number;
  /** Storage key of the file, as CARTO's upload helper names directories. */
  token: string;
  /** Set by fault injection; such a job generates no file. */
  fault?: ExportFault;
  file:
    | { status: 'generating' }
    | { status: 'ready'; file: ExportFile; readyAt: number }
    | { status: 'failed'; failedAt: number };
}

export interface ExportStatus {
  state: ExportState;
  /** When the current state began: the job's `updated_at`. */
  since: number;
}

/**
 * The state at `now`, computed from the creation time instead of timers: pending for the first tenth of the duration,
 * then exporting, then a short uploading, then complete. The file must really exist before the job can leave
 * exporting, so a slow multi-GiB generation stretches exporting rather than lying about completion.
 */
export function exportStatus(job: ExportJob, now: number, duration: number): ExportStatus {
  const exportingFrom = job.createdAt + Math.round(duration * 0.1);
  if (now < exportingFrom) return { state: 'pending', since: job.createdAt };
  if (job.fault === 'stuck') return { state: 'exporting', since: exportingFrom };
  if (job.fault === 'failure') {
    const failedAt = job.createdAt + duration;
    return now < failedAt
      ? { state: 'exporting', since: exportingFrom }
      : { state: 'failure', since: failedAt };
  }
  if (job.file.status === 'failed') {
    const failedAt = Math.max(exportingFrom, job.file.failedAt);
    return now < failedAt
      ? { state: 'exporting', since: exportingFrom }
      : { state: 'failure', since: failedAt };
  }
  if (job.file.status === 'generating') return { state: 'exporting', since: exportingFrom };
  const completeAt = completionTime(job, duration);
  const uploadingFrom = completeAt - uploadingSpan(duration);
  if (now < uploadingFrom) return { state: 'exporting', since: exportingFrom };
  if (now < completeAt) return { state: 'uploading', since: uploadingFrom };
  return { state: 'complete', since: completeAt };
}

/** carto-python treats `uploading` as an error (its poll loop omits it), so the state is kept brief. */
function uploadingSpan(duration: number): number {
  return Math.min(Math.round(duration * 0.05), 250);
}

function completionTime(job: ExportJob, duration: number): number {
  if (job.file.status !== 'ready') return Number.POSITIVE_INFINITY;
  return Math.max(job.createdAt + duration, job.file.readyAt + uploadingSpan(duration));
}

/** `<sanitized map name> (on YYYY-MM-DD at HH.MM.SS).carto` in UTC, spaces kept, as CARTO's exporter names it. */
export function exportFilename(mapName: string, at: number): string {
  // Carto::FileSystem::Sanitize replaces NUL / \ : * ? " < > | with underscores.
  const safe = [...mapName].map((c) => (c === '\u0000' || '/\\:*?"<>|'.includes(c) ? '_' : c)).join('');
  const stamp = new Date(at).toISOString();
  return `${safe} (on ${stamp.slice(0, 10)} at ${stamp.slice(11, 19).replace(/:/g, '.')}).carto`;
}

/** VisualizationExportPresenter: exactly these seven fields, in this order. */
export function presentExport(
  job: ExportJob,
  status: ExportStatus,
  url: string | null,
): Record<string, unknown> {
  return {
    id: job.id,
    visualization_id: job.visualizationId,
    user_id: job.userId,
    state: status.state,
    url: status.state === 'complete' ? url : null,
    created_at: new Date(job.createdAt).toISOString(),
    updated_at: new Date(status.since).toISOString(),
  };
}
