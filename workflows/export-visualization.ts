// The exportVisualization workflow: export a CARTO map, wait for it on durable timers, copy it into S3, optionally import it.
import {
  ActivityCancellationType,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { CartoFerryActivities, ImportStatus } from '../activities';
import {
  copyProgressSignal,
  pollNowSignal,
  progressQuery,
  type ExportPhase,
  type ExportProgress,
} from '../contract/export-messages';
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
import { CartoAccount, CartoExportId, CartoPhase, CartoVisualizationId } from '../contract/search-attributes';
import { countExportFinished, countExportStarted, recordExportWait } from './export-metrics';
import { asWorkflowFailure, failureTypeOf } from './failures';
import { clipToDeadline, nextPollDelay } from './polling-schedule';
import { describeDelay, progressMarkdown } from './progress-details';

/** Everything a run hands to the next one when it continues as new. */
export interface ExportRunState {
  startedAt: string;
  key: string;
  phase?: ExportPhase;
  exportId?: string;
  exportState?: ExportState;
  polls: number;
  failedPolls: number;
  nextDelay?: number;
  reexports: number;
  bytesCopied?: number;
  totalBytes?: number | null;
  object?: StoredObject;
  importId?: string;
  importStartedAt?: string;
  importState?: string;
  importPolls?: number;
  /** A pollNow signal that arrived while a poll ran and that the hand-over must not drop. */
  pollNowPending?: boolean;
}

/** Patch id: a pollNow signal received outside a wait is kept for the next wait (see the README's patching rule). */
const KEEP_EARLY_POLL_NOW = 'keep-early-poll-now';

/** Patch id: when a copy fails or is cancelled, the workflow aborts any multipart upload it left in S3. */
const ABORT_ABANDONED_UPLOADS = 'abort-abandoned-uploads';

/** Pre-signed export URLs expire; this many fresh exports are tried before giving up. */
const MAX_REEXPORTS = 2;

const retry: RetryPolicy = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES],
};

const startOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  scheduleToCloseTimeout: '1 hour',
  retry,
};
// A poll that keeps failing for ten minutes is skipped, not fatal: the next poll may succeed, and the deadline still holds.
const pollOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '10 minutes',
  retry,
};
const cleanupOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '10 minutes',
  retry,
};
const copyOptions: ActivityOptions = {
  startToCloseTimeout: '12 hours',
  // Short, so a copy on a dead worker is retried within about a minute rather than after the start-to-close timeout.
  heartbeatTimeout: '1 minute',
  retry: { ...retry, initialInterval: '5s', maximumInterval: '2 minutes', maximumAttempts: 10 },
  // Set explicitly (the SDK sends TRY_CANCEL when unset): a cancelled workflow ends only after the copy has aborted
  // its multipart upload, so "cancelled" means nothing is left behind in S3.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/** Activities with a one-line summary, which the Web UI shows on the event in the timeline. */
function activities(options: ActivityOptions, summary: string): CartoFerryActivities {
  return proxyActivities<CartoFerryActivities>({ ...options, summary });
}

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
  const run = new ExportRun(input, rawInput, state);
  return run.execute();
}

class ExportRun {
  #pollNow = false;
  #nextPollAt: string | null = null;
  #error: string | null = null;

  constructor(
    readonly input: NormalizedInput,
    readonly rawInput: ExportVisualizationInput,
    readonly state: ExportRunState,
  ) {
    this.#pollNow = state.pollNowPending ?? false;
    delete state.pollNowPending;
    setHandler(progressQuery, () => this.progress());
    setHandler(pollNowSignal, () => {
      this.#pollNow = true;
    });
    setHandler(copyProgressSignal, (update) => {
      if (this.state.phase !== 'copying') return;
      this.state.bytesCopied = update.bytesCopied;
      this.state.totalBytes = update.totalBytes;
      this.#showDetails();
    });
  }

  get target(): string {
    return `s3://${this.input.destination?.bucket ?? '(worker default bucket)'}/${this.state.key}`;
  }

  progress(): ExportProgress {
    const s = this.state;
    return {
      phase: s.phase ?? 'exporting',
      exportState: s.exportState ?? null,
      exportId: s.exportId ?? null,
      polls: s.polls,
      nextPollAt: this.#nextPollAt,
      bytesCopied: s.bytesCopied ?? 0,
      totalBytes: s.totalBytes ?? null,
      importState: s.importState ?? null,
      importId: s.importId ?? null,
      object: s.object ?? null,
      startedAt: s.startedAt,
      error: this.#error,
    };
  }

  async execute(): Promise<ExportVisualizationResult> {
    const account = this.input.source.account;
    if (this.state.phase === undefined) countExportStarted(account);
    this.#enterPhase(this.state.phase ?? 'exporting');
    try {
      while (!this.state.object) {
        if (!this.state.exportId) await this.#beginExport();
        await this.#waitForExport();
        recordExportWait(account, (Date.now() - Date.parse(this.state.startedAt)) / 1000, this.state.polls);
        this.#enterPhase('copying');
        this.state.object = await this.#copyToS3();
        if (this.state.object) this.state.bytesCopied = this.state.totalBytes = this.state.object.size;
      }
      log.info('Export landed in S3', {
        exportId: this.state.exportId,
        uri: this.state.object.uri,
        size: this.state.object.size,
      });
      const imported = this.input.import ? await this.#importIntoCarto() : undefined;
      this.#enterPhase('done');
      countExportFinished(account, 'completed');
      return {
        exportId: this.state.exportId as string,
        visualizationId: this.input.source.visualizationId,
        object: this.state.object,
        ...(imported ? { import: imported } : {}),
        polls: this.state.polls,
        startedAt: this.state.startedAt,
        completedAt: new Date().toISOString(),
      };
    } catch (error) {
      // Record how it ended, for the Web UI and `list --query "CartoPhase='failed'"`, then let the error end the workflow.
      this.#nextPollAt = null;
      this.#error = error instanceof Error ? error.message : String(error);
      const cancelled = isCancellation(error);
      this.#enterPhase(cancelled ? 'cancelled' : 'failed');
      countExportFinished(
        account,
        cancelled ? 'cancelled' : 'failed',
        error instanceof ApplicationFailure ? (error.type ?? undefined) : undefined,
      );
      throw error;
    }
  }

  async #beginExport(): Promise<void> {
    try {
      const started = await activities(startOptions, 'start CARTO export').startExport({
        account: this.input.source.account,
        visualizationId: this.input.source.visualizationId,
        userTablesIds: this.input.source.userTablesIds,
      });
      this.state.exportId = started.exportId;
      this.state.exportState = started.state;
      this.state.nextDelay = undefined;
      upsertSearchAttributes([{ key: CartoExportId, value: started.exportId }]);
      this.#showDetails();
      log.info('Export started', { exportId: started.exportId });
    } catch (error) {
      throw asWorkflowFailure(error, FailureType.CartoUnavailable, 'Starting the export');
    }
  }

  async #waitForExport(): Promise<void> {
    const { input, state } = this;
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
      await this.#waitForNextPoll(
        deadline,
        (delay) => `export ${state.exportState ?? 'pending'} after ${state.polls} polls; next in ${delay}`,
      );
      const pollNumber = state.polls + 1;
      const status = await this.#poll('export', () =>
        activities(pollOptions, `poll #${pollNumber}: export state`).checkExport({
          account: input.source.account,
          exportId: state.exportId as string,
        }),
      );
      if (status) {
        state.exportState = status.state;
        state.polls = pollNumber;
      }
      this.#showDetails();
    }
  }

  async #copyToS3(): Promise<StoredObject | undefined> {
    const { input, state } = this;
    try {
      return await activities(copyOptions, `copy export ${state.exportId} to ${this.target}`).copyExportToS3({
        account: input.source.account,
        exportId: state.exportId as string,
        visualizationId: input.source.visualizationId,
        bucket: input.destination?.bucket,
        key: state.key,
      });
    } catch (error) {
      // A copy keeps its upload between attempts to resume it; once the copy is given up, nothing may stay behind.
      if (patched(ABORT_ABANDONED_UPLOADS)) await this.#abortCopyUploads();
      if (failureTypeOf(error) === FailureType.ExportFileUnavailable && state.reexports < MAX_REEXPORTS) {
        // The file's URL expired or vanished before the copy ran: a fresh export produces a fresh URL.
        log.warn('Export file unavailable; starting a fresh export', {
          exportId: state.exportId,
          reexports: state.reexports + 1,
        });
        state.reexports += 1;
        state.exportId = undefined;
        state.exportState = undefined;
        this.#enterPhase('exporting');
        return undefined;
      }
      throw asWorkflowFailure(error, FailureType.DestinationUnavailable, 'Copying the export into S3');
    }
  }

  /** Runs even when the workflow is being cancelled: a cancelled copy between attempts cannot clean up itself. */
  async #abortCopyUploads(): Promise<void> {
    const { input, state } = this;
    try {
      await CancellationScope.nonCancellable(() =>
        activities(cleanupOptions, `abort unfinished uploads to ${this.target}`).abortCopyUploads({
          bucket: input.destination?.bucket,
          key: state.key,
        }),
      );
    } catch (error) {
      // The copy's own failure is what the user needs to see; a bucket lifecycle rule is the backstop for this one.
      log.warn('Could not abort unfinished uploads', { error: String(error) });
    }
  }

  async #importIntoCarto(): Promise<ImportOutcome> {
    const { input, state } = this;
    const options = input.import as NonNullable<NormalizedInput['import']>;
    const object = state.object as StoredObject;
    this.#enterPhase('importing');
    if (!state.importId) {
      try {
        const started = await activities(
          startOptions,
          `start CARTO import into ${options.account}`,
        ).startImport({
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
        this.#showDetails();
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
      await this.#waitForNextPoll(
        deadline,
        (delay) => `import ${state.importState ?? 'pending'}; next poll in ${delay}`,
      );
      const pollNumber = (state.importPolls ?? 0) + 1;
      status = await this.#poll('import', () =>
        activities(pollOptions, `import poll #${pollNumber}`).checkImport({
          account: options.account,
          importId: state.importId as string,
        }),
      );
      if (status) {
        state.importState = status.state;
        state.importPolls = pollNumber;
      }
      this.#showDetails();
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

  /** Continues as new if the server suggests it, then waits out the next backoff step (never past the deadline). */
  async #waitForNextPoll(deadline: number, summary: (delay: string) => string): Promise<void> {
    await this.#continueAsNewIfSuggested();
    this.state.nextDelay = nextPollDelay(this.state.nextDelay, this.input.polling);
    const delay = clipToDeadline(this.state.nextDelay, Date.now(), deadline);
    await this.#waitBeforePoll(delay, summary(describeDelay(delay)));
  }

  /**
   * One state poll. A poll that failed after its retries is skipped (undefined): the next one may succeed and the
   * deadline still holds. Failures retrying cannot fix end the workflow.
   */
  async #poll<T>(what: 'export' | 'import', poll: () => Promise<T>): Promise<T | undefined> {
    try {
      return await poll();
    } catch (error) {
      if (NON_RETRYABLE_FAILURES.includes(failureTypeOf(error) as FailureType)) {
        throw asWorkflowFailure(error, FailureType.CartoUnavailable, `Polling the ${what}`);
      }
      this.state.failedPolls += 1;
      log.warn(`The ${what} poll failed; will poll again`, { failedPolls: this.state.failedPolls });
      return undefined;
    } finally {
      this.#showDetails();
    }
  }

  /** A durable timer that the pollNow signal cuts short. */
  async #waitBeforePoll(delay: number, summary: string): Promise<void> {
    // Runs started before this patch dropped a pollNow that arrived while a poll activity ran; newer runs honour it.
    if (!patched(KEEP_EARLY_POLL_NOW)) this.#pollNow = false;
    if (this.#pollNow) {
      this.#pollNow = false;
      log.info('Poll requested by signal');
      return;
    }
    this.#nextPollAt = new Date(Date.now() + delay).toISOString();
    this.#showDetails();
    const timerScope = new CancellationScope();
    const timer = timerScope.run(() => sleep(delay, { summary }));
    await Promise.race([timer, condition(() => this.#pollNow)]);
    if (this.#pollNow) {
      timerScope.cancel();
      await timer.catch((error: unknown) => {
        if (!isCancellation(error)) throw error;
      });
      log.info('Poll requested by signal');
    }
    this.#pollNow = false;
    this.#nextPollAt = null;
  }

  #enterPhase(phase: ExportPhase): void {
    this.state.phase = phase;
    const wanted = [
      { key: CartoAccount, value: this.input.source.account },
      { key: CartoVisualizationId, value: this.input.source.visualizationId },
      { key: CartoPhase, value: phase },
      ...(this.state.exportId ? [{ key: CartoExportId, value: this.state.exportId }] : []),
    ];
    // Upsert only what changed: each upsert is a history event.
    const current = workflowInfo().typedSearchAttributes;
    const changed = wanted.filter(({ key, value }) => current.get(key) !== value);
    if (changed.length) upsertSearchAttributes(changed);
    this.#showDetails();
  }

  #showDetails(): void {
    setCurrentDetails(progressMarkdown(this.progress(), this.target));
  }

  /** Hands over to a fresh run when the server says history is getting long; nothing is in flight at this point. */
  async #continueAsNewIfSuggested(): Promise<void> {
    if (!workflowInfo().continueAsNewSuggested) return;
    await condition(allHandlersFinished);
    log.info('Continuing as new', { historyLength: workflowInfo().historyLength, polls: this.state.polls });
    await continueAsNew<typeof exportVisualization>(this.rawInput, {
      ...this.state,
      ...(this.#pollNow ? { pollNowPending: true } : {}),
    });
  }
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
