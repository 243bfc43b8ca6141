// Queries and signals of the exportVisualization workflow, shared by the workflow, the client and the CLI.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExportState, StoredObject } from './export-visualization';

/** Where an export stands; also the values of the CartoPhase search attribute. */
export type ExportPhase = 'exporting' | 'copying' | 'importing' | 'done' | 'failed' | 'cancelled';
export const EXPORT_PHASES: readonly ExportPhase[] = [
  'exporting',
  'copying',
  'importing',
  'done',
  'failed',
  'cancelled',
];

export interface ExportProgress {
  phase: ExportPhase;
  exportState: ExportState | null;
  exportId: string | null;
  /** Export state polls so far, across continue-as-new. */
  polls: number;
  /** When the next poll is due (ISO-8601), while waiting. */
  nextPollAt: string | null;
  bytesCopied: number;
  totalBytes: number | null;
  importState: string | null;
  importId: string | null;
  object: StoredObject | null;
  startedAt: string;
  /** Set once the workflow has ended in failure or cancellation. */
  error: string | null;
}

/** Copy progress as the copy activity reports it, a bounded number of times per copy. */
export interface CopyProgressUpdate {
  bytesCopied: number;
  totalBytes: number | null;
}

export const progressQuery = defineQuery<ExportProgress>('progress');
/** Cuts the current wait short: the next poll happens now. */
export const pollNowSignal = defineSignal('pollNow');
export const copyProgressSignal = defineSignal<[CopyProgressUpdate]>('copyProgress');
