// carto-ferry's own metrics from the workflow: exports started/finished per account, wait time, polls.
// The SDK's workflow metric meter skips emission during replay, so each is counted once per real event.
// Instruments are made on use: the meter exists only inside a workflow context, not when this module is imported.
import { metricMeter } from '@temporalio/workflow';

export function countExportStarted(account: string): void {
  metricMeter
    .createCounter('carto_ferry_exports_started', 'exports', 'Exports started, by account')
    .withTags({ account })
    .add(1);
}

export function countExportFinished(
  account: string,
  outcome: 'completed' | 'failed' | 'cancelled',
  failureType?: string,
): void {
  metricMeter
    .createCounter('carto_ferry_exports_finished', 'exports', 'Exports that ended, by account and outcome')
    .withTags({ account, outcome, failure_type: failureType ?? '' })
    .add(1);
}

export function recordExportWait(account: string, seconds: number, polls: number): void {
  metricMeter
    .createHistogram(
      'carto_ferry_export_wait_seconds',
      'float',
      's',
      'From start until the export file was ready in CARTO',
    )
    .withTags({ account })
    .record(seconds);
  metricMeter
    .createHistogram('carto_ferry_polls_per_export', 'int', 'polls', 'Export state polls per export')
    .withTags({ account })
    .record(polls);
}
