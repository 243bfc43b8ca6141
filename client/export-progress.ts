// Where an export stands: the workflow's `progress` query, with a fallback to its outcome once it has closed.
import type { Client, WorkflowExecutionDescription, WorkflowExecutionStatusName } from '@temporalio/client';
import { progressQuery, type ExportPhase, type ExportProgress } from '../contract/export-messages';
import { CartoExportId } from '../contract/search-attributes';
import type { exportVisualization } from '../workflows';
import { getExportOutcome, isClosed } from './export-outcome';

/** A progress snapshot with the workflow's status and the run that answered. */
export type ExportSnapshot = ExportProgress & {
  /** RUNNING while the export goes on, then how it closed: COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
  status: WorkflowExecutionStatusName;
  runId: string;
};

export interface GetProgressOptions {
  /** How long the query may wait for a worker to answer; default 10 s (5 s for a closed export). */
  queryTimeoutMs?: number;
}

/** The export is running but no worker answered the progress query (none is polling, or a new run has not begun). */
export class ProgressUnavailableError extends Error {
  override name = 'ProgressUnavailableError';
  constructor(
    readonly workflowId: string,
    readonly status: WorkflowExecutionStatusName,
    options: { cause: unknown },
  ) {
    super(
      `No progress for ${workflowId} (${status}): ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`,
      options,
    );
  }
}

const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
const CLOSED_QUERY_TIMEOUT_MS = 5_000;

/**
 * Runs the `progress` query on the export's latest run. A closed export answers with its final phase: from the query
 * when a worker can replay it, otherwise from its result or failure. Throws WorkflowNotFoundError for an unknown id
 * and ProgressUnavailableError when a running export's query gets no answer.
 */
export async function getProgress(
  client: Client,
  workflowId: string,
  options: GetProgressOptions = {},
): Promise<ExportSnapshot> {
  // Describe first: if it already says closed, the query below sees the final state too.
  const description = await client.workflow.getHandle(workflowId).describe();
  const status = description.status.name;
  const runId = description.runId;
  const handle = client.workflow.getHandle<typeof exportVisualization>(workflowId, runId);
  let progress: ExportProgress;
  try {
    // A closed export is answered by a worker replaying it; when none is polling, the outcome answers sooner.
    const timeout =
      options.queryTimeoutMs ?? (isClosed(status) ? CLOSED_QUERY_TIMEOUT_MS : DEFAULT_QUERY_TIMEOUT_MS);
    const deadline = Date.now() + timeout;
    progress = await client.withDeadline(deadline, () => handle.query(progressQuery));
  } catch (error) {
    if (!isClosed(status)) throw new ProgressUnavailableError(workflowId, status, { cause: error });
    return { ...(await progressFromOutcome(client, description)), status, runId };
  }
  if (isClosed(status) && progress.phase !== finalPhase(status)) {
    // Terminated or timed out from outside: the workflow code never saw it end, so its own phase is stale.
    const outcome = await progressFromOutcome(client, description);
    progress = { ...progress, phase: outcome.phase, nextPollAt: null, error: outcome.error };
  }
  return { ...progress, status, runId };
}

/** The phase a closed workflow's status implies. */
export function finalPhase(status: WorkflowExecutionStatusName): ExportPhase {
  if (status === 'COMPLETED') return 'done';
  if (status === 'CANCELLED') return 'cancelled';
  return 'failed';
}

/** What can be known of a closed export without a worker: search attributes, and the result or failure. */
async function progressFromOutcome(
  client: Client,
  description: WorkflowExecutionDescription,
): Promise<ExportProgress> {
  const outcome = await getExportOutcome(client, description.workflowId);
  const attributes = description.typedSearchAttributes;
  const base: ExportProgress = {
    phase: finalPhase(description.status.name),
    exportState: null,
    exportId: attributes.get(CartoExportId) ?? null,
    polls: 0,
    nextPollAt: null,
    bytesCopied: 0,
    totalBytes: null,
    importState: null,
    importId: null,
    object: null,
    startedAt: description.startTime.toISOString(),
    error: null,
  };
  if (outcome.status !== 'COMPLETED') {
    return { ...base, error: outcome.failure.message };
  }
  const { result } = outcome;
  return {
    ...base,
    exportState: 'complete',
    exportId: result.exportId,
    polls: result.polls,
    bytesCopied: result.object.size,
    totalBytes: result.object.size,
    importState: result.import?.state ?? null,
    importId: result.import?.importId ?? null,
    object: result.object,
    startedAt: result.startedAt,
  };
}
