// Stand-in activities for workflow unit tests: a scripted CARTO whose exports finish at a given (skipped) server time.
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CartoFerryActivities, ImportStatus } from '../../activities';
import { FailureType, type ExportState, type StoredObject } from '../../contract/export-visualization';

export interface Script {
  /** Server-time milliseconds an export takes to complete. */
  exportTakes: number;
  exportEndsIn?: 'complete' | 'failure';
  /** Export creation fails with this non-retryable type. */
  createFails?: FailureType;
  /** The first N checkExport calls fail with a retryable error. */
  flakyPolls?: number;
  /** The first N copies find the file's URL expired. */
  expiredCopies?: number;
  /** Import polls before the import ends, and how. */
  importPolls?: number;
  importEndsIn?: { state: 'complete' } | { state: 'failure'; errorCode: number; title: string };
}

export interface Calls {
  startExport: number;
  checkExport: number;
  copy: number;
  startImport: number;
  checkImport: number;
  abortUploads: number;
  copiedKeys: string[];
}

export function scriptedActivities(
  env: TestWorkflowEnvironment,
  script: Script,
): { activities: CartoFerryActivities; calls: Calls } {
  const calls: Calls = {
    startExport: 0,
    checkExport: 0,
    copy: 0,
    startImport: 0,
    checkImport: 0,
    abortUploads: 0,
    copiedKeys: [],
  };
  const exportsStartedAt = new Map<string, number>();
  const now = async () => Number(await env.currentTimeMs());

  const activities = {
    async startExport() {
      calls.startExport += 1;
      if (script.createFails)
        throw ApplicationFailure.nonRetryable(`scripted ${script.createFails}`, script.createFails);
      const exportId = `export-${calls.startExport}`;
      exportsStartedAt.set(exportId, await now());
      return { exportId, state: 'pending' as ExportState };
    },
    async checkExport({ exportId }: { exportId: string }) {
      calls.checkExport += 1;
      if (calls.checkExport <= (script.flakyPolls ?? 0)) {
        throw ApplicationFailure.nonRetryable('scripted outage', FailureType.CartoUnavailable);
      }
      const elapsed = (await now()) - (exportsStartedAt.get(exportId) ?? 0);
      const state: ExportState =
        elapsed >= script.exportTakes ? (script.exportEndsIn ?? 'complete') : 'exporting';
      return { exportId, state };
    },
    async copyExportToS3(input: { exportId: string; key: string; bucket?: string }): Promise<StoredObject> {
      calls.copy += 1;
      calls.copiedKeys.push(input.key);
      if (calls.copy <= (script.expiredCopies ?? 0)) {
        throw ApplicationFailure.nonRetryable('scripted expiry', FailureType.ExportFileUnavailable);
      }
      const bucket = input.bucket ?? 'exports';
      return {
        bucket,
        key: input.key,
        uri: `s3://${bucket}/${input.key}`,
        size: 1234,
        checksum: 'sha256:00',
      };
    },
    async abortCopyUploads() {
      calls.abortUploads += 1;
      return 0;
    },
    async startImport() {
      calls.startImport += 1;
      return { importId: 'import-1' };
    },
    async checkImport(): Promise<ImportStatus> {
      calls.checkImport += 1;
      const done = calls.checkImport >= (script.importPolls ?? 1);
      const end = script.importEndsIn ?? { state: 'complete' };
      const failed = end.state === 'failure';
      return {
        importId: 'import-1',
        state: done ? end.state : 'importing',
        final: done,
        errorCode: done && failed ? end.errorCode : null,
        title: done && failed ? end.title : null,
        visualizationId: done && !failed ? 'new-map-id' : null,
        tableNames: done && !failed ? ['stores'] : [],
        tablesCreated: done && !failed ? 1 : 0,
      };
    },
  };
  return { activities: activities as unknown as CartoFerryActivities, calls };
}
