// All carto-ferry activities, built from injected dependencies (CARTO accounts, S3 client, copy settings).
import type { S3Client } from '@aws-sdk/client-s3';
import type { CartoAccounts } from './carto-accounts';
import { createCopyActivities, type CopySettings } from './copy-export-to-s3';
import type { SendCopyProgress } from './copy-progress-reporter';
import { createExportActivities } from './export-activities';
import { createImportActivities } from './import-activities';

export interface ActivityDependencies {
  accounts: CartoAccounts;
  s3: S3Client;
  defaultBucket?: string;
  copy: CopySettings;
  /** Delivers copy progress to the workflow (a Temporal signal); progress is not reported without it. */
  sendCopyProgress?: SendCopyProgress;
}

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createExportActivities(deps.accounts),
    ...createCopyActivities(deps),
    ...createImportActivities(deps),
  };
}

export type CartoFerryActivities = ReturnType<typeof createActivities>;
export type { ExportStatus, StartExportInput } from './export-activities';
export type { CopyExportInput, CopyProgress } from './copy-export-to-s3';
export type { ImportStatus, StartImportInput } from './import-activities';
