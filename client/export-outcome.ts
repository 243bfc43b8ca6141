// How a closed export ended: its result, or its failure reduced to a stable type and a message.
import {
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import type { ExportVisualizationResult } from '../contract/export-visualization';
import type { exportVisualization } from '../workflows';

/** Statuses of a workflow that will not run again; CONTINUED_AS_NEW is not one of them (a new run took over). */
export const CLOSED_STATUSES: readonly WorkflowExecutionStatusName[] = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'TIMED_OUT',
];

export function isClosed(status: WorkflowExecutionStatusName): boolean {
  return CLOSED_STATUSES.includes(status);
}

export interface ExportFailureSummary {
  /** The failure's stable type (`ExportFailed`, `Unauthorized`, ...), or `Cancelled`, `Terminated`, `TimedOut`. */
  type: string;
  message: string;
}

export type ExportOutcome =
  | { status: 'COMPLETED'; result: ExportVisualizationResult }
  | { status: 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT'; failure: ExportFailureSummary };

/**
 * Waits for the export to close (following continue-as-new) and says how it ended. Throws WorkflowNotFoundError for
 * an unknown id; any other error is the connection's.
 */
export async function getExportOutcome(client: Client, workflowId: string): Promise<ExportOutcome> {
  try {
    const result = await client.workflow.getHandle<typeof exportVisualization>(workflowId).result();
    return { status: 'COMPLETED', result };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const failure = summarizeFailure(error);
    const cause = error.cause;
    const status =
      cause instanceof CancelledFailure
        ? 'CANCELLED'
        : cause instanceof TerminatedFailure
          ? 'TERMINATED'
          : cause instanceof TimeoutFailure
            ? 'TIMED_OUT'
            : 'FAILED';
    return { status, failure };
  }
}

/** The failure type users match on, and its message, from what `handle.result()` threw. */
export function summarizeFailure(error: WorkflowFailedError): ExportFailureSummary {
  const cause = error.cause;
  if (cause instanceof ApplicationFailure) {
    return { type: cause.type ?? 'ApplicationFailure', message: cause.message };
  }
  if (cause instanceof CancelledFailure) return { type: 'Cancelled', message: 'cancelled' };
  if (cause instanceof TerminatedFailure) {
    return { type: 'Terminated', message: cause.message || 'terminated' };
  }
  if (cause instanceof TimeoutFailure) return { type: 'TimedOut', message: cause.message || 'timed out' };
  return { type: cause?.name ?? 'Failure', message: cause?.message ?? error.message };
}
