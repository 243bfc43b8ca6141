// Import jobs: their time-driven states and the DataImportPresenter fields of GET /api/v1/imports/:id.
import { errorText } from './import-error-codes';
import type { Inspection } from './import-inspection';
import type { ImportOptions } from './import-options';

export type ImportState =
  'pending' | 'uploading' | 'unpacking' | 'importing' | 'guessing' | 'complete' | 'failure';

/** What receiving and inspecting the file produced; set once that work is finished. */
export type ImportWork = { status: 'running' } | { status: 'done'; at: number; outcome: Inspection };

/** What a successful import created, fixed when the job is first seen complete. */
export interface ImportResult {
  tablesCreated: number;
  tableId: string | null;
  tableName: string | null;
  visualizationId: string | null;
  /** 1022 when collision_strategy=skip skipped every table; the import still completes. */
  errorCode: number | null;
}

export interface ImportJob {
  id: string;
  userName: string;
  userId: string;
  createdAt: number;
  options: ImportOptions;
  dataType: 'file' | 'url' | 'datasource' | 'query';
  /** The URL, or the server-side path of the upload; empty when the POST had no source. */
  dataSource: string;
  /** The non-2xx HTTP status of the download, presented as a string. */
  httpStatus?: string;
  work: ImportWork;
  result?: ImportResult;
}

export interface ImportStatus {
  state: ImportState;
  final: boolean;
}

/** Fractions of the import duration at which each stage ends. */
const PENDING_END = 0.1;
const UPLOADING_END = 0.35;
const UNPACKING_END = 0.5;
const IMPORTING_END = 0.65;
const GUESSING_END = 0.8;

/**
 * pending → uploading → unpacking → importing → (guessing → importing) → complete|failure over `duration`, computed
 * from the creation time. Work that is really done (the download, the unzip check) gates the clock: the job stays
 * `uploading` until the file is in, and later stages shift by the delay. A failure appears at the end of the stage
 * that produced it, as the real importer's tracker would report it.
 */
export function importStatus(job: ImportJob, now: number, duration: number): ImportStatus {
  const at = (fraction: number) => job.createdAt + Math.round(duration * fraction);
  if (now < at(PENDING_END)) return { state: 'pending', final: false };
  if (job.work.status === 'running') return { state: 'uploading', final: false };
  const shift = Math.max(0, job.work.at - at(UPLOADING_END));
  const end = (fraction: number) => at(fraction) + shift;
  const outcome = job.work.outcome;
  if (!outcome.ok) {
    const failAt = end(
      outcome.stage === 'uploading' ? UPLOADING_END : outcome.stage === 'unpacking' ? UNPACKING_END : 1,
    );
    if (now >= failAt) return { state: 'failure', final: true };
  } else if (now >= end(1)) {
    return { state: 'complete', final: true };
  }
  if (now < end(UPLOADING_END)) return { state: 'uploading', final: false };
  if (now < end(UNPACKING_END)) return { state: 'unpacking', final: false };
  if (job.options.typeGuessing && now >= end(IMPORTING_END) && now < end(GUESSING_END)) {
    return { state: 'guessing', final: false };
  }
  return { state: 'importing', final: false };
}

/**
 * DataImportPresenter order. `success` exists only in final states; `http_response_code(_message)` only after a
 * non-2xx download; `any_table_raster` and `derived_visualization_id` only when complete (added by the controller).
 */
export function presentImport(job: ImportJob, status: ImportStatus): Record<string, unknown> {
  const complete = status.state === 'complete';
  const failed = status.state === 'failure';
  const result = complete ? job.result : undefined;
  const errorCode =
    failed && job.work.status === 'done' && !job.work.outcome.ok
      ? job.work.outcome.errorCode
      : (result?.errorCode ?? null);
  const warnings =
    complete && job.work.status === 'done' && job.work.outcome.ok ? job.work.outcome.warnings : null;
  const body: Record<string, unknown> = {
    id: job.id,
    user_id: job.userId,
    table_id: result?.tableId ?? null,
    data_type: job.dataType,
    table_name: result?.tableName ?? null,
    state: status.state,
    error_code: errorCode,
    queue_id: job.id,
    tables_created_count: result?.tablesCreated ?? null,
    synchronization_id: null,
    type_guessing: job.options.typeGuessing,
    quoted_fields_guessing: job.options.quotedFieldsGuessing,
    content_guessing: job.options.contentGuessing,
    create_visualization: job.options.createVisualization,
    visualization_id: result?.visualizationId ?? null,
    user_defined_limits: job.options.userDefinedLimits,
    get_error_text: errorText(errorCode),
    display_name: displayName(job),
  };
  if (status.final) body.success = complete;
  body.original_url = job.dataSource;
  body.warnings = warnings;
  body.is_raster = false;
  if (job.httpStatus !== undefined && !job.httpStatus.startsWith('2')) {
    body.http_response_code = job.httpStatus;
    body.http_response_code_message = httpStatusMessage(job.httpStatus);
  }
  if (complete) {
    body.any_table_raster = false;
    body.derived_visualization_id = job.options.createVisualization
      ? (result?.visualizationId ?? null)
      : null;
  }
  return body;
}

/** The basename of the URL or upload path, URL-decoded; the import id when there is no source. */
function displayName(job: ImportJob): string {
  if (job.dataSource === '') return job.id;
  let path = job.dataSource;
  try {
    path = new URL(job.dataSource).pathname;
  } catch {
    // A filesystem path, not a URL.
  }
  const base = path.split('/').pop() ?? '';
  try {
    return decodeURIComponent(base) || job.id;
  } catch {
    return base || job.id;
  }
}

function httpStatusMessage(status: string): string {
  if (status === '404') return 'This usually means no file was found at the specified URL.';
  if (status === '401' || status === '403')
    return 'This usually means the file provider refused access to the file.';
  if (status.startsWith('3')) return 'This usually means the file has moved and could not be followed.';
  if (status.startsWith('4')) return 'This usually means an unknown client error has occured.';
  if (status.startsWith('5')) return 'This usually means an unknown server error has occured.';
  return 'This is an unknown type of HTTP status code.';
}
