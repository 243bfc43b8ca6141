// kill -9 the worker process at each phase of an export; a new worker picks the export up and it lands byte-identical.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { startExport } from '../../client/export-client';
import { pollNowSignal } from '../../contract/export-messages';
import {
  assertStoredIntact,
  publicMapId,
  waitForCheckpoint,
  waitForProgress,
} from '../support/export-checks';
import { BUCKET, startRealStack, type RealStack } from '../support/real-stack';

const REPO = path.resolve(__dirname, '../..');
const MiB = 1024 * 1024;
const EXPORT_SIZE = 32 * MiB;
let stack: RealStack;
const workers: ChildProcess[] = [];

/** A worker in its own process, so it can really be killed with SIGKILL. */
function startWorkerProcess(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...stack.workerEnv,
      CARTO_FERRY_METRICS_ADDRESS: 'off',
      CARTO_FERRY_LOG_LEVEL: 'WARN',
    },
    stdio: 'ignore',
  });
  workers.push(child);
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

before(async () => {
  // Slow downloads (a stall mid-file) keep the copy in flight long enough to kill its worker.
  stack = await startRealStack({
    emulator: { exportSize: EXPORT_SIZE, exportDuration: 2000, importDuration: 4000 },
  });
});
after(async () => {
  for (const child of workers) if (child.exitCode === null) child.kill('SIGKILL');
  await stack?.stop();
});

async function assertLandedIntact(handle: WorkflowHandle) {
  const result = await handle.result();
  await assertStoredIntact(stack, result);
  return result;
}

function start(name: string, extra: object = {}) {
  return startExport(
    stack.client,
    {
      source: { account: 'demo', visualizationId: publicMapId(stack.emulator) },
      destination: { key: `crash/${name}.carto` },
      polling: { initialInterval: 300, maxInterval: 600 },
      ...extra,
    },
    { workflowId: `crash-${name}`, taskQueue: stack.taskQueue },
  );
}

describe('worker killed with SIGKILL', () => {
  test('while waiting between polls: the next worker carries on', async () => {
    const first = startWorkerProcess();
    const { handle } = await start('waiting');
    await waitForProgress(handle, (p) => p.polls >= 1 && p.phase === 'exporting');
    await kill9(first);
    startWorkerProcess();
    await assertLandedIntact(handle);
  });

  test('mid-copy: the next worker resumes the same upload from its last part and the object is byte-identical', async () => {
    stack.emulator.faults.set([
      { endpoint: 'export.download', fault: 'stallDownload', fraction: 0.5, pause: 600_000, times: 1 },
    ]);
    const first = startWorkerProcess();
    const { handle } = await start('copying');
    // Half the file arrives, then the download stalls: wait until the copy's heartbeat checkpoints the landed parts.
    const checkpoint = await waitForCheckpoint(handle, 3);
    await kill9(first);
    startWorkerProcess();
    // The dead attempt is noticed by its heartbeat timeout (1 minute); the retry resumes from the checkpoint.
    const result = await assertLandedIntact(handle);
    const downloads = stack.emulator.downloads(result.exportId);
    // The stack's workers use 5 MiB parts, so a copy killed halfway has several parts in S3 to resume from.
    const resumedAt = checkpoint.partMd5s.length * stack.config.copy.partSize;
    assert.equal(downloads[0]?.rangeStart, 0, 'the first attempt read from the start');
    assert.deepEqual(
      downloads.slice(1).map(({ status, rangeStart, bytesSent }) => ({ status, rangeStart, bytesSent })),
      [{ status: 206, rangeStart: resumedAt, bytesSent: EXPORT_SIZE - resumedAt }],
      'the retry asked only for the bytes after the checkpointed parts, and got a range',
    );
    stack.emulator.faults.clear();
  });

  test('mid-import: the import is polled to completion by the next worker', async () => {
    const first = startWorkerProcess();
    const { handle } = await start('importing', { import: { account: 'target' } });
    await waitForProgress(handle, (p) => p.phase === 'importing' && p.importId !== null);
    await kill9(first);
    startWorkerProcess();
    await handle.signal(pollNowSignal);
    const result = await assertLandedIntact(handle);
    assert.equal(result.import?.state, 'complete');
  });

  test('leaves no multipart upload behind, not even the killed copy’s', async () => {
    // The dead process could not abort its upload; the retried copy aborts it before starting its own.
    const uploads = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual(uploads.Uploads ?? [], []);
  });
});
