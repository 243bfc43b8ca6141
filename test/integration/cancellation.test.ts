// Cancelling an export in each phase on the real stack: it ends CANCELLED, records what was done, and S3 holds no partial object.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { startExport } from '../../client/export-client';
import {
  pollNowSignal,
  progressQuery,
  type ExportPhase,
  type ExportProgress,
} from '../../contract/export-messages';
import { publicMapId, waitForProgress } from '../support/export-checks';
import { BUCKET, startRealStack, type RealStack } from '../support/real-stack';

const MiB = 1024 * 1024;
let stack: RealStack;
let stopWorker: () => Promise<void>;

before(async () => {
  stack = await startRealStack({ emulator: { exportSize: 24 * MiB, exportDuration: 500 } });
  stopWorker = await stack.startWorker();
});
after(async () => {
  await stopWorker?.();
  await stack?.stop();
});

async function cancelAndSettle(handle: WorkflowHandle): Promise<ExportProgress> {
  await handle.cancel();
  const error = await handle.result().then(
    () => assert.fail('expected cancellation'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure, String(error));
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  return handle.query(progressQuery);
}

async function assertNoObject(key: string) {
  await assert.rejects(stack.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), {
    name: 'NotFound',
  });
  const uploads = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  assert.deepEqual(uploads.Uploads ?? [], [], 'no multipart upload left pending');
}

async function start(key: string, extra: object = {}) {
  const started = await startExport(
    stack.client,
    {
      source: { account: 'demo', visualizationId: publicMapId(stack.emulator) },
      destination: { key },
      polling: { initialInterval: 200 },
      ...extra,
    },
    { workflowId: `cancel-${key}`, taskQueue: stack.taskQueue },
  );
  return started.handle;
}

describe('cancellation', () => {
  test('while waiting between polls: stops polling and leaves nothing in S3', async () => {
    stack.emulator.faults.set([{ endpoint: 'export.create', fault: 'exportStuck', times: 1 }]);
    const handle = await start('waiting.carto');
    await waitForProgress(handle, (p) => p.polls >= 2);
    const progress = await cancelAndSettle(handle);
    assert.equal(progress.phase satisfies ExportPhase, 'cancelled');
    assert.ok(progress.exportId, 'the export id is recorded');
    await assertNoObject('waiting.carto');
  });

  test('mid-copy: aborts the multipart upload and leaves no object', async () => {
    // The download sends a third of the file, then stalls: the copy is caught with parts uploaded and more to come.
    stack.emulator.faults.set([
      { endpoint: 'export.download', fault: 'stallDownload', fraction: 0.34, pause: 120_000, times: 1 },
    ]);
    const handle = await start('copying.carto');
    await waitForProgress(handle, (p) => p.phase === 'copying');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const progress = await cancelAndSettle(handle);
    assert.equal(progress.phase, 'cancelled');
    assert.equal(progress.object, null);
    await assertNoObject('copying.carto');
  });

  test('between copy attempts: the workflow aborts the upload the failed attempt kept for resuming', async () => {
    // The download breaks off halfway: the attempt fails with two parts in S3, kept for the retry 5 s later.
    stack.emulator.faults.set([{ endpoint: 'export.download', fault: 'truncate', fraction: 0.5, times: 1 }]);
    const handle = await start('between-attempts.carto');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { raw } = await handle.describe();
      const copy = raw.pendingActivities?.find((a) => a.activityType?.name === 'copyExportToS3');
      if (
        copy?.lastFailure &&
        copy.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
      )
        break;
      assert.ok(Date.now() < deadline, 'the first copy attempt failed and the retry is waiting');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const kept = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.equal(kept.Uploads?.length, 1, 'the failed attempt kept its upload for the retry');
    const progress = await cancelAndSettle(handle);
    assert.equal(progress.phase, 'cancelled');
    await assertNoObject('between-attempts.carto');
  });

  test('while importing: keeps the verified object and records it', async () => {
    stack.emulator.faults.clear();
    // Hour-long waits, cut short by pollNow until the import has started: then it sits in its wait.
    const handle = await start('importing.carto', {
      import: { account: 'target' },
      polling: { initialInterval: '1 hour' },
    });
    const importing = await waitForProgress(handle, (p) => {
      if (p.phase !== 'importing' || p.importId === null) void handle.signal(pollNowSignal);
      return p.phase === 'importing' && p.importId !== null;
    });
    const progress = await cancelAndSettle(handle);
    assert.equal(progress.phase, 'cancelled');
    assert.equal(progress.object?.key, 'importing.carto');
    assert.equal(progress.importId, importing.importId);
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'importing.carto' }));
    assert.equal(head.ContentLength, progress.object?.size);
  });
});
