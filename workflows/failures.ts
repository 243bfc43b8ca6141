// Helpers that give workflow failures the contract's stable type names, whatever layer they came from.
import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import { FailureType } from '../contract/export-visualization';

/** The failure type behind an activity failure, if it carries one. */
export function failureTypeOf(error: unknown): string | undefined {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure)
    return error.cause.type ?? undefined;
  if (error instanceof ApplicationFailure) return error.type ?? undefined;
  return undefined;
}

/**
 * Re-raises an activity's failure as the workflow's own, keeping its type, message and details: callers then read
 * `VisualizationNotFound` on the workflow failure instead of digging through ActivityFailure causes.
 */
export function asWorkflowFailure(error: unknown, fallbackType: FailureType, context: string): unknown {
  // Cancellation must stay cancellation, so the workflow ends as cancelled rather than failed.
  if (!(error instanceof ActivityFailure) || isCancellation(error)) return error;
  const cause = error.cause;
  if (cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      type: cause.type ?? fallbackType,
      message: cause.message,
      details: cause.details as unknown[] | undefined,
      nonRetryable: true,
      cause,
    });
  }
  const why =
    cause instanceof TimeoutFailure ? `timed out (${cause.timeoutType})` : (cause?.message ?? 'failed');
  return ApplicationFailure.create({
    type: fallbackType,
    message: `${context} ${why}`,
    nonRetryable: true,
    cause: error,
  });
}
