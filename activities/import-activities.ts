// Activities that import a .carto file that landed in S3 into a CARTO account, and read the import's state.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Context } from '@temporalio/activity';
import type { Readable } from 'node:stream';
import type { StoredObject } from '../contract/export-visualization';
import type { CartoAccounts } from './carto-accounts';
import { toCartoFailure } from './carto-failures';

export interface StartImportInput {
  account: string;
  object: StoredObject;
  createVisualization: boolean;
  privacy?: 'public' | 'private' | 'link';
  collisionStrategy?: 'skip' | 'overwrite';
  via: 'url' | 'upload';
}

export interface ImportStatus {
  importId: string;
  state: string;
  final: boolean;
  errorCode: number | null;
  title: string | null;
  visualizationId: string | null;
  tableNames: string[];
  tablesCreated: number;
}

/** Long enough for CARTO's queue to reach the job and download a large file. */
const PRESIGNED_URL_TTL_SECONDS = 6 * 60 * 60;

export function createImportActivities(deps: { accounts: CartoAccounts; s3: S3Client }) {
  return {
    async startImport(input: StartImportInput): Promise<{ importId: string }> {
      const carto = deps.accounts.client(input.account);
      const options = {
        createVisualization: input.createVisualization,
        privacy: input.privacy,
        collisionStrategy: input.collisionStrategy,
      };
      const get = new GetObjectCommand({ Bucket: input.object.bucket, Key: input.object.key });
      try {
        if (input.via === 'url') {
          // Signed inside the activity and handed straight to CARTO, so the URL never enters workflow history.
          const url = await getSignedUrl(deps.s3, get, { expiresIn: PRESIGNED_URL_TTL_SECONDS });
          return { importId: await carto.createImportFromUrl(url, options) };
        }
        const object = await deps.s3.send(get, { abortSignal: Context.current().cancellationSignal });
        const filename = input.object.key.split('/').pop() ?? 'export.carto';
        const importId = await carto.createImportFromStream(
          object.Body as Readable,
          { filename, size: input.object.size },
          options,
          Context.current().cancellationSignal,
        );
        return { importId };
      } catch (error) {
        throw toCartoFailure(error, { action: 'create-import', account: input.account });
      }
    },

    async checkImport(input: { account: string; importId: string }): Promise<ImportStatus> {
      const carto = deps.accounts.client(input.account);
      try {
        const item = await carto.getImport(input.importId);
        return {
          importId: item.id,
          state: item.state,
          final: item.state === 'complete' || item.state === 'failure',
          errorCode: item.error_code ?? null,
          title: item.get_error_text?.title ?? null,
          visualizationId: item.derived_visualization_id ?? item.visualization_id ?? null,
          // The Import API exposes only the main table's name, not the full list.
          tableNames: item.table_name ? [item.table_name] : [],
          tablesCreated: item.tables_created_count ?? 0,
        };
      } catch (error) {
        throw toCartoFailure(error, {
          action: 'poll-import',
          account: input.account,
          importId: input.importId,
        });
      }
    },
  };
}
