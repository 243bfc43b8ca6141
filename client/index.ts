// The carto-ferry client library for other services: start, watch, list and steer exports; the contract's types.
export {
  getExportResult,
  getExportStatus,
  startExport,
  type ExportStatus,
  type StartedExport,
  type StartExportOptions,
} from './export-client';
export { getExportOutcome, type ExportFailureSummary, type ExportOutcome } from './export-outcome';
export {
  getProgress,
  ProgressUnavailableError,
  type ExportSnapshot,
  type GetProgressOptions,
} from './export-progress';
export { watchExport, type WatchExportOptions } from './watch-export';
export { cancelExport, ExportAlreadyClosedError, pollNow } from './steer-export';
export { exportListQuery, listExports, type ExportListing, type ListExportsOptions } from './list-exports';
export {
  registerSearchAttributes,
  SearchAttributeConflictError,
  type SearchAttributeRegistration,
} from './register-search-attributes';

export {
  DEFAULT_TASK_QUEUE,
  defaultWorkflowId,
  FailureType,
  InvalidInputError,
  WORKFLOW_TYPE,
  type Duration,
  type ExportState,
  type ExportVisualizationInput,
  type ExportVisualizationResult,
  type ImportFailureDetails,
  type ImportOutcome,
  type StoredObject,
} from '../contract/export-visualization';
export {
  EXPORT_PHASES,
  pollNowSignal,
  progressQuery,
  type ExportPhase,
  type ExportProgress,
} from '../contract/export-messages';
export {
  CartoAccount,
  CartoExportId,
  CartoPhase,
  CartoVisualizationId,
  SEARCH_ATTRIBUTES,
} from '../contract/search-attributes';
