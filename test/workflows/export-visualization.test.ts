// Workflow behaviour on the time-skipping test server, with scripted activities standing in for CARTO and S3.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { FailureType, type ExportVisualizationInput } from '../../contract/export-visualization';
import { exportVisualization } from '../../workflows';
import { createTimeSkippingEnv } from '../support/time-skipping';
import { workflowBundle } from '../support/workflow-bundle';
import { historiesOfAllRuns } from '../support/workflow-runs';
import { scriptedActivities, type Script } from './scripted-activities';

const MAP = '2b13c956-e7c1-11e2-806b-5404a6a683d5';
const DAY = 24 * 60 * 60 * 1000;
let env: TestWorkflowEnvironment;
let counter = 0;

before(async () => {
  env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

async function run(script: Script, input: Partial<ExportVisualizationInput> = {}) {
  const taskQueue = `wf-test-${++counter}`;
  const { activities, calls } = scriptedActivities(env, script);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const workflowId = `wf-${counter}`;
  const outcome = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(exportVisualization, {
      workflowId,
      taskQueue,
      args: [{ source: { account: 'demo', visualizationId: MAP }, ...input } as ExportVisualizationInput],
    });
    let result, error;
    try {
      result = await handle.result();
    } catch (caught) {
      error = caught;
    }
    return {
      result,
      error,
      runs: await historiesOfAllRuns(env.client, workflowId, handle.firstExecutionRunId),
    };
  });
  const timers = outcome.runs
    .flatMap((history) => history.events ?? [])
    .filter((event) => event.timerStartedEventAttributes)
    .map((event) => {
      const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
      return Number(timeout?.seconds ?? 0) * 1000 + Math.round((timeout?.nanos ?? 0) / 1e6);
    });
  return { ...outcome, calls, timers };
}

function failureOf(error: unknown): ApplicationFailure {
  assert.ok(error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(error)}`);
  assert.ok(
    error.cause instanceof ApplicationFailure,
    `expected ApplicationFailure cause, got ${String(error.cause)}`,
  );
  return error.cause;
}

describe('exportVisualization', () => {
  test('waits out a three-day export on durable timers and lands the object', async () => {
    const { result, timers, calls, runs } = await run({ exportTakes: 3 * DAY });
    assert.ok(result, 'workflow should succeed');
    assert.equal(result.exportId, 'export-1');
    assert.equal(result.visualizationId, MAP);
    assert.match(
      result.object.key,
      new RegExp(`^demo/${MAP}/\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}Z\\.carto$`),
    );
    assert.equal(result.polls, calls.checkExport);
    const elapsed = Date.parse(result.completedAt) - Date.parse(result.startedAt);
    assert.ok(elapsed >= 3 * DAY && elapsed < 3 * DAY + 10 * 60_000, `elapsed ${elapsed} ms of server time`);
    // Capped exponential backoff: 5 s doubling to the 5-minute cap.
    assert.deepEqual(timers.slice(0, 8), [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    assert.ok(timers.every((t) => t <= 300_000));
    // ~860 polls outgrow the server's history suggestion: the workflow hands over to fresh runs, keeping its count.
    assert.ok(runs.length >= 2, `expected continue-as-new, got ${runs.length} run(s)`);
    assert.ok(runs.every((history) => (history.events?.length ?? 0) < 10_000));
  });

  test('follows the polling options given in the input', async () => {
    const { result, timers } = await run(
      { exportTakes: 60_000 },
      { polling: { initialInterval: '2s', maxInterval: 7000, backoffCoefficient: 3 } },
    );
    assert.ok(result);
    assert.deepEqual(timers.slice(0, 4), [2_000, 6_000, 7_000, 7_000]);
  });

  test('fails with ExportTimedOut once the polling timeout passes', async () => {
    const { error, timers } = await run({ exportTakes: 10 * DAY }, { polling: { timeout: '2 hours' } });
    const failure = failureOf(error);
    assert.equal(failure.type, FailureType.ExportTimedOut);
    assert.match(failure.message, /still exporting/);
    const waited = timers.reduce((a, b) => a + b, 0);
    // Timers are clipped to the deadline; activity time in between accounts for the rest.
    assert.ok(waited <= 2 * 60 * 60 * 1000 && waited > 2 * 60 * 60 * 1000 - 60_000, `waited ${waited} ms`);
  });

  test('fails with ExportFailed when CARTO reports the export failed', async () => {
    const { error, calls } = await run({ exportTakes: 30_000, exportEndsIn: 'failure' });
    const failure = failureOf(error);
    assert.equal(failure.type, FailureType.ExportFailed);
    assert.equal(calls.copy, 0, 'nothing is copied');
  });

  test('surfaces a non-retryable activity failure under its own type', async () => {
    const { error, calls } = await run({ exportTakes: 0, createFails: FailureType.VisualizationNotFound });
    assert.equal(failureOf(error).type, FailureType.VisualizationNotFound);
    assert.equal(calls.startExport, 1, 'not retried');
  });

  test('rejects bad input as InvalidInput naming the field, before any activity runs', async () => {
    const { error, calls } = await run(
      { exportTakes: 0 },
      { source: { account: 'demo', visualizationId: 'not-a-uuid' } },
    );
    const failure = failureOf(error);
    assert.equal(failure.type, FailureType.InvalidInput);
    assert.match(failure.message, /source\.visualizationId/);
    assert.equal(calls.startExport, 0);
  });

  test('keeps polling through polls that fail and still lands the export', async () => {
    const { result, calls } = await run({ exportTakes: 60_000, flakyPolls: 3 });
    assert.ok(result);
    assert.ok(calls.checkExport > 3);
    assert.equal(result.polls, calls.checkExport - 3, 'failed polls are not counted as polls');
  });

  test('starts a fresh export when the file URL has expired before the copy', async () => {
    const { result, calls } = await run({ exportTakes: 20_000, expiredCopies: 1 });
    assert.ok(result);
    assert.equal(calls.startExport, 2);
    assert.equal(result.exportId, 'export-2');
    assert.equal(new Set(calls.copiedKeys).size, 1, 'the same object key is used for the retry');
    assert.equal(calls.abortUploads, 1, 'the given-up copy’s unfinished uploads are aborted');
  });

  test('imports the landed file and reports the new map', async () => {
    const { result, calls } = await run(
      { exportTakes: 20_000, importPolls: 3 },
      { import: { account: 'target' } },
    );
    assert.ok(result?.import);
    assert.deepEqual(result.import, {
      importId: 'import-1',
      state: 'complete',
      visualizationId: 'new-map-id',
      tableNames: ['stores'],
      tablesCreated: 1,
    });
    assert.equal(calls.checkImport, 3);
  });

  test('reports ImportFailed with the CARTO error code and where the export landed', async () => {
    const { error } = await run(
      {
        exportTakes: 20_000,
        importEndsIn: { state: 'failure', errorCode: 8007, title: 'Over account maps limit, please upgrade' },
      },
      { import: { account: 'target' }, destination: { bucket: 'backups', key: 'maps/one.carto' } },
    );
    const failure = failureOf(error);
    assert.equal(failure.type, FailureType.ImportFailed);
    const details = failure.details?.[0] as { errorCode: number; title: string; object: { uri: string } };
    assert.equal(details.errorCode, 8007);
    assert.equal(details.title, 'Over account maps limit, please upgrade');
    assert.equal(details.object.uri, 's3://backups/maps/one.carto');
    assert.match(failure.message, /s3:\/\/backups\/maps\/one\.carto/);
  });
});
