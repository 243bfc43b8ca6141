// Follows an export as it runs: progress snapshots when they change, across continue-as-new, until it closes.
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { isClosed } from './export-outcome';
import { getProgress, ProgressUnavailableError, type ExportSnapshot } from './export-progress';

export interface WatchExportOptions {
  /** Time between progress queries; default 1 s. */
  intervalMs?: number;
  /** How long each query may wait for a worker; default 10 s. */
  queryTimeoutMs?: number;
  /** Ends the iteration early, without an error. */
  signal?: AbortSignal;
}

const DEFAULT_INTERVAL_MS = 1_000;

/**
 * Yields a snapshot each time the export's progress or status changes and ends once the workflow has closed: the last
 * snapshot carries the final status (COMPLETED, FAILED, CANCELLED, TERMINATED or TIMED_OUT). Queries go to the latest
 * run, so continue-as-new is followed; a run that cannot answer yet (just started, or no worker polling) is waited
 * out, not an end. Throws WorkflowNotFoundError for an unknown id.
 */
export async function* watchExport(
  client: Client,
  workflowId: string,
  options: WatchExportOptions = {},
): AsyncIterable<ExportSnapshot> {
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  let previous: string | undefined;
  while (!options.signal?.aborted) {
    let snapshot: ExportSnapshot | undefined;
    try {
      snapshot = await getProgress(client, workflowId, { queryTimeoutMs: options.queryTimeoutMs });
    } catch (error) {
      if (!(error instanceof ProgressUnavailableError)) throw error;
    }
    if (snapshot) {
      const key = JSON.stringify(snapshot);
      if (key !== previous) {
        previous = key;
        yield snapshot;
      }
      if (isClosed(snapshot.status)) return;
    }
    try {
      await delay(intervalMs, undefined, { signal: options.signal });
    } catch {
      return; // aborted
    }
  }
}
