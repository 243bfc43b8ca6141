// Activities that start a CARTO visualization export and read its state: one HTTP request each.
import type { ExportState } from '../contract/export-visualization';
import type { CartoAccounts } from './carto-accounts';
import { toCartoFailure } from './carto-failures';

export interface StartExportInput {
  account: string;
  visualizationId: string;
  userTablesIds?: string[];
}

export interface ExportStatus {
  exportId: string;
  state: ExportState;
}

export function createExportActivities(accounts: CartoAccounts) {
  return {
    async startExport(input: StartExportInput): Promise<ExportStatus> {
      const carto = accounts.client(input.account);
      try {
        const created = await carto.createVisualizationExport(input.visualizationId, input.userTablesIds);
        return { exportId: created.id, state: created.state };
      } catch (error) {
        throw toCartoFailure(error, {
          action: 'create-export',
          account: input.account,
          visualizationId: input.visualizationId,
        });
      }
    },

    /** Reads the export's state only: its `url` may be pre-signed, and signed URLs stay out of workflow history. */
    async checkExport(input: { account: string; exportId: string }): Promise<ExportStatus> {
      const carto = accounts.client(input.account);
      try {
        const current = await carto.getVisualizationExport(input.exportId);
        return { exportId: current.id, state: current.state };
      } catch (error) {
        throw toCartoFailure(error, {
          action: 'poll-export',
          account: input.account,
          exportId: input.exportId,
        });
      }
    },
  };
}
