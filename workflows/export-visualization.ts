// The exportVisualization workflow: export a CARTO map, wait for it on durable timers, copy it into S3, optionally import it.
import {
  ApplicationFailure,
  continueAsNew,
  type RetryPolicy,
  log,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { CartoFerryActivities, ImportStatus } from '../activities';
import {
  defaultObjectKey,
  FailureType,
  InvalidInputError,
  NON_RETRYABLE_FAILURES,
  parseExportInput,
  type ExportState,
  type ExportVisualizationInput,
  type ExportVisualizationResult,
  type ImportFailureDetails,
  type ImportOutcome,
  type NormalizedInput,
  type StoredObject,
} from '../contract/export-visualization';
import { asWorkflowFailure, failureTypeOf } from './failures';
import { clipToDeadline, nextPollDelay } from './polling-schedule';

/** Everything a run hands to the next one when it continues as new. */
export interface ExportRunState {
  startedAt: string;
  key: string;
  exportId?: string;
  exportState?: ExportState;
  polls: number;
  failedPolls: number;
  nextDelay?: number;
  reexports: number;
  object?: StoredObject;
  importId?: string;
  importStartedAt?: string;
  importState?: string;
}

/** Pre-signed export URLs expire; this many fresh exports are tried before giving up. */
const MAX_REEXPORTS = 2;

const retry: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
};

const { startExport, startImport } = proxyActivities<CartoFerryActivities>({
  startToCloseTimeout: '10 minutes',
  scheduleToCloseTimeout: '1 hour',
  retry,
});

// A poll that keeps failing for ten minutes is skipped, not fatal: the next poll may succeed, and the deadline still holds.
const { checkExport, checkImport } = proxyActivities<CartoFerryActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '10 minutes',
  retry,
});

const { copyExportToS3 } = proxyActivities<CartoFerryActivities>({
  startToCloseTimeout: '12 hours',
  // Short, so a copy on a dead worker is retried within about a minute rather than after the start-to-close timeout.
  heartbeatTimeout: '1 minute',
  retry: { ...retry, initialInterval: '5s', maximumInterval: '2 minutes', maximumAttempts: 10 },
});

export async function exportVisualization(
  rawInput: ExportVisualizationInput,
  carried?: ExportRunState,
): Promise<ExportVisualizationResult> {
  const input = validate(rawInput);
  // Workflow time is replay-safe: the sandbox's Date reads the time of the activation being processed.
  const state: ExportRunState = carried ?? {
    startedAt: new Date().toISOString(),
    key:
      input.destination?.key ??
      defaultObjectKey(
        {
          account: input.source.account,
          visualizationId: input.source.visualizationId,
          prefix: input.destination?.prefix,
        },
        new Date(),
      ),
    polls: 0,
    failedPolls: 0,
    reexports: 0,
  };

  while (!state.object) {
    if (!state.exportId) await beginExport(input, state);
    await waitForExport(input, state, rawInput);
    state.object = await copyToS3(input, state);
  }
  log.info('Export landed in S3', {
    exportId: state.exportId,
    uri: state.object.uri,
    size: state.object.size,
  });

  const imported = input.import ? await importIntoCarto(input, state, rawInput) : undefined;
  return {
    exportId: state.exportId as string,
    visualizationId: input.source.visualizationId,
    object: state.object,
    ...(imported ? { import: imported } : {}),
    polls: state.polls,
    startedAt: state.startedAt,
    completedAt: new Date().toISOString(),
  };
}

function validate(rawInput: ExportVisualizationInput): NormalizedInput {
  try {
    return parseExportInput(rawInput);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: error.message,
        details: [error.problems],
        nonRetryable: true,
      });
    }
    throw error;
  }
}

async function beginExport(input: NormalizedInput, state: ExportRunState): Promise<void> {
  try {
    const started = await startExport({
      account: input.source.account,
      visualizationId: input.source.visualizationId,
      userTablesIds: input.source.userTablesIds,
    });
    state.exportId = started.exportId;
    state.exportState = started.state;
    state.nextDelay = undefined;
    log.info('Export started', { exportId: started.exportId });
  } catch (error) {
    throw asWorkflowFailure(error, FailureType.CartoUnavailable, 'Starting the export');
  }
}

async function waitForExport(
  input: NormalizedInput,
  state: ExportRunState,
  rawInput: ExportVisualizationInput,
): Promise<void> {
  const deadline = Date.parse(state.startedAt) + input.polling.timeout;
  while (state.exportState !== 'complete') {
    if (state.exportState === 'failure') {
      throw ApplicationFailure.create({
        type: FailureType.ExportFailed,
        message: `CARTO export ${state.exportId} of map ${input.source.visualizationId} ended in state failure (CARTO gives no reason; retry the export or check the map in CARTO).`,
        details: [{ exportId: state.exportId, polls: state.polls }],
        nonRetryable: true,
      });
    }
    if (Date.now() >= deadline) {
      throw ApplicationFailure.create({
        type: FailureType.ExportTimedOut,
        message: `CARTO export ${state.exportId} was still ${state.exportState} after ${state.polls} polls and the polling timeout of ${input.polling.timeout} ms.`,
        details: [{ exportId: state.exportId, exportState: state.exportState, polls: state.polls }],
        nonRetryable: true,
      });
    }
    await continueAsNewIfSuggested(rawInput, state);
    state.nextDelay = nextPollDelay(state.nextDelay, input.polling);
    await sleep(clipToDeadline(state.nextDelay, Date.now(), deadline));
    try {
      const status = await checkExport({ account: input.source.account, exportId: state.exportId as string });
      state.exportState = status.state;
      state.polls += 1;
    } catch (error) {
      if (NON_RETRYABLE_FAILURES.includes(failureTypeOf(error) as FailureType)) {
        throw asWorkflowFailure(error, FailureType.CartoUnavailable, 'Polling the export');
      }
      state.failedPolls += 1;
      log.warn('Export poll failed; will poll again', {
        exportId: state.exportId,
        failedPolls: state.failedPolls,
      });
    }
  }
}

async function copyToS3(input: NormalizedInput, state: ExportRunState): Promise<StoredObject | undefined> {
  try {
    return await copyExportToS3({
      account: input.source.account,
      exportId: state.exportId as string,
      visualizationId: input.source.visualizationId,
      bucket: input.destination?.bucket,
      key: state.key,
    });
  } catch (error) {
    if (failureTypeOf(error) === FailureType.ExportFileUnavailable && state.reexports < MAX_REEXPORTS) {
      // The file's URL expired or vanished before the copy ran: a fresh export produces a fresh URL.
      log.warn('Export file unavailable; starting a fresh export', {
        exportId: state.exportId,
        reexports: state.reexports + 1,
      });
      state.reexports += 1;
      state.exportId = undefined;
      state.exportState = undefined;
      return undefined;
    }
    throw asWorkflowFailure(error, FailureType.DestinationUnavailable, 'Copying the export into S3');
  }
}

async function importIntoCarto(
  input: NormalizedInput,
  state: ExportRunState,
  rawInput: ExportVisualizationInput,
): Promise<ImportOutcome> {
  const options = input.import as NonNullable<NormalizedInput['import']>;
  const object = state.object as StoredObject;
  if (!state.importId) {
    try {
      const started = await startImport({
        account: options.account,
        object,
        createVisualization: options.createVisualization ?? true,
        privacy: options.privacy,
        collisionStrategy: options.collisionStrategy,
        via: options.via ?? 'url',
      });
      state.importId = started.importId;
      state.importStartedAt = new Date().toISOString();
      state.nextDelay = undefined;
      log.info('Import started', { importId: started.importId });
    } catch (error) {
      throw asWorkflowFailure(error, FailureType.CartoUnavailable, 'Starting the import');
    }
  }
  const deadline = Date.parse(state.importStartedAt as string) + input.polling.timeout;
  let status: ImportStatus | undefined;
  while (!status?.final) {
    if (Date.now() >= deadline) {
      throw ApplicationFailure.create({
        type: FailureType.ImportTimedOut,
        message: `CARTO import ${state.importId} was still ${state.importState} after the polling timeout; the export is safe at ${object.uri}.`,
        details: [{ importId: state.importId, object }],
        nonRetryable: true,
      });
    }
    await continueAsNewIfSuggested(rawInput, state);
    state.nextDelay = nextPollDelay(state.nextDelay, input.polling);
    await sleep(clipToDeadline(state.nextDelay, Date.now(), deadline));
    try {
      status = await checkImport({ account: options.account, importId: state.importId as string });
      state.importState = status.state;
    } catch (error) {
      if (NON_RETRYABLE_FAILURES.includes(failureTypeOf(error) as FailureType)) {
        throw asWorkflowFailure(error, FailureType.CartoUnavailable, 'Polling the import');
      }
      state.failedPolls += 1;
    }
  }
  if (status.state !== 'complete') {
    const details: ImportFailureDetails = {
      errorCode: status.errorCode,
      title: status.title,
      importId: status.importId,
      object,
    };
    throw ApplicationFailure.create({
      type: FailureType.ImportFailed,
      message: `CARTO import ${status.importId} failed with error_code ${status.errorCode ?? 'none'} (${status.title ?? 'no title'}); the export is safe at ${object.uri}.`,
      details: [details],
      nonRetryable: true,
    });
  }
  return {
    importId: status.importId,
    state: status.state,
    visualizationId: status.visualizationId,
    tableNames: status.tableNames,
    tablesCreated: status.tablesCreated,
  };
}

/** Hands over to a fresh run when the server says history is getting long; nothing is in flight at this point. */
async function continueAsNewIfSuggested(
  rawInput: ExportVisualizationInput,
  state: ExportRunState,
): Promise<void> {
  if (workflowInfo().continueAsNewSuggested) {
    log.info('Continuing as new', { historyLength: workflowInfo().historyLength, polls: state.polls });
    await continueAsNew<typeof exportVisualization>(rawInput, state);
  }
}
