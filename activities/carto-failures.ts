// Turns CARTO client errors into Temporal failures with stable type names, retryable only where retrying can help.
import { ApplicationFailure } from '@temporalio/common';
import { CartoHttpError, CartoNetworkError, CartoProtocolError } from '../carto-api/errors';
import { FailureType } from '../contract/export-visualization';

/** What the activity was doing, so a 404 or 403 can be named in the domain's terms. */
export type CartoAction =
  'create-export' | 'poll-export' | 'download-export' | 'create-import' | 'poll-import';

export interface CartoContext {
  action: CartoAction;
  account: string;
  visualizationId?: string;
  exportId?: string;
  importId?: string;
}

export function toCartoFailure(error: unknown, context: CartoContext): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof CartoHttpError) return fromStatus(error, context);
  if (error instanceof CartoNetworkError || error instanceof CartoProtocolError) {
    return ApplicationFailure.create({
      message: error.message,
      type: FailureType.CartoUnavailable,
      nonRetryable: false,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({ message, type: FailureType.CartoUnavailable, nonRetryable: false });
}

function fromStatus(error: CartoHttpError, context: CartoContext): ApplicationFailure {
  const { action, account } = context;
  const said = error.cartoMessage ? ` CARTO said: ${error.cartoMessage}` : '';
  const fail = (type: FailureType, message: string) => ApplicationFailure.nonRetryable(message + said, type);

  if (error.status === 429) {
    return ApplicationFailure.create({
      message: `CARTO is rate-limiting account '${account}' (${error.endpoint} answered 429).${said}`,
      type: FailureType.RateLimited,
      nonRetryable: false,
      // Honour Retry-After; without it the activity's own backoff applies.
      nextRetryDelay: error.retryAfterMs,
    });
  }
  if (error.status >= 500 || error.status === 408) {
    return ApplicationFailure.create({
      message: error.message,
      type: FailureType.CartoUnavailable,
      nonRetryable: false,
    });
  }
  if (action === 'download-export' && [403, 404, 410].includes(error.status)) {
    // Pre-signed export URLs expire after about 2 hours and then answer 403 (S3) or 404; a fresh export gets a new one.
    return fail(
      FailureType.ExportFileUnavailable,
      `The file of export ${context.exportId} can no longer be downloaded (${error.status}); its URL has expired or the file is gone.`,
    );
  }
  if (error.status === 401) {
    return fail(
      FailureType.Unauthorized,
      `CARTO rejected the credentials of account '${account}' (401 from ${error.endpoint}). Check that account's apiKey in CARTO_ACCOUNTS: the Import API needs the master API key.`,
    );
  }
  if (error.status === 403) {
    return fail(
      FailureType.AccessDenied,
      `Account '${account}' may not do this (403 from ${error.endpoint}). CARTO treats an invalid or non-master API key as anonymous, so check the key in CARTO_ACCOUNTS as well as the map's owner and privacy.`,
    );
  }
  if (error.status === 404) {
    if (action === 'create-export') {
      return fail(
        FailureType.VisualizationNotFound,
        `Map ${context.visualizationId} does not exist in account '${account}'.`,
      );
    }
    if (action === 'poll-export') {
      return fail(
        FailureType.ExportNotFound,
        `Export ${context.exportId} does not exist in account '${account}'.`,
      );
    }
    return fail(
      FailureType.ImportRejected,
      `Import ${context.importId ?? ''} does not exist in account '${account}'.`,
    );
  }
  if (error.status === 422 && action === 'create-export') {
    return fail(
      FailureType.NotExportable,
      `Map ${context.visualizationId} of account '${account}' cannot be exported as requested (422): only maps (not datasets) export, and userTablesIds must belong to the map.`,
    );
  }
  if (action === 'create-import') {
    return fail(
      FailureType.ImportRejected,
      `CARTO refused the import into account '${account}' (${error.status}).`,
    );
  }
  return fail(
    FailureType.CartoRequestRejected,
    `CARTO refused the request (${error.status} from ${error.endpoint}).`,
  );
}
