// carto-ferry's own metrics from the workflow: exports started/completed/failed per account, wait time, polls.
// The SDK's workflow metric meter skips emission during replay, so each is counted once per real event.
import { metricMeter } from '@temporalio/workflow';

const started = metricMeter.createCounter(
  'carto_ferry_exports_started',
  'exports',
  'Exports started, by account',
);
const finished = metricMeter.createCounter(
  'carto_ferry_exports_finished',
  'exports',
  'Exports that ended, by account and outcome',
);
const waitSeconds = metricMeter.createHistogram(
  'carto_ferry_export_wait_seconds',
  'float',
  's',
  'From start until the export file was ready in CARTO',
);
const pollsPerExport = metricMeter.createHistogram(
  'carto_ferry_polls_per_export',
  'int',
  'polls',
  'Export state polls per export',
);

export function countExportStarted(account: string): void {
  started.withTags({ account }).add(1);
}

export function countExportFinished(
  account: string,
  outcome: 'completed' | 'failed' | 'cancelled',
  failureType?: string,
): void {
  finished.withTags({ account, outcome, failure_type: failureType ?? '' }).add(1);
}

export function recordExportWait(account: string, seconds: number, polls: number): void {
  waitSeconds.withTags({ account }).record(seconds);
  pollsPerExport.withTags({ account }).record(polls);
}
