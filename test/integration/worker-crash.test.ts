// kill -9 the worker process at each phase of an export; a new worker picks the export up and it lands byte-identical.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { startExport } from '../../client/export-client';
import { pollNowSignal, progressQuery, type ExportProgress } from '../../contract/export-messages';
import { BUCKET, startRealStack, type RealStack } from '../support/real-stack';

const REPO = path.resolve(__dirname, '../..');
const MiB = 1024 * 1024;
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
    emulator: { exportSize: 16 * MiB, exportDuration: 2000, importDuration: 4000 },
  });
});
after(async () => {
  for (const child of workers) if (child.exitCode === null) child.kill('SIGKILL');
  await stack?.stop();
});

async function waitFor(
  handle: WorkflowHandle,
  ready: (p: ExportProgress) => boolean,
): Promise<ExportProgress> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress && ready(progress)) return progress;
    assert.ok(Date.now() < deadline, `timed out; last progress ${JSON.stringify(progress)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function assertLandedIntact(handle: WorkflowHandle) {
  const result = await handle.result();
  const served = stack.emulator.exportFilePath(result.exportId);
  assert.ok(served);
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: result.object.key }));
  assert.equal(await sha256(object.Body as Readable), await sha256(createReadStream(served)));
  return result;
}

function start(name: string, extra: object = {}) {
  const map = stack.emulator.maps('demo').find((m) => m.type === 'derived' && m.privacy === 'PUBLIC');
  assert.ok(map);
  return startExport(
    stack.client,
    {
      source: { account: 'demo', visualizationId: map.id },
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
    await waitFor(handle, (p) => p.polls >= 1 && p.phase === 'exporting');
    await kill9(first);
    startWorkerProcess();
    await assertLandedIntact(handle);
  });

  test('mid-copy: the copy is retried on the next worker and the object is byte-identical', async () => {
    stack.emulator.faults.set([
      { endpoint: 'export.download', fault: 'stallDownload', fraction: 0.5, pause: 600_000, times: 1 },
    ]);
    const first = startWorkerProcess();
    const { handle } = await start('copying');
    await waitFor(handle, (p) => p.phase === 'copying');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await kill9(first);
    startWorkerProcess();
    // The dead attempt is noticed by its heartbeat timeout (1 minute), then retried from the start.
    await assertLandedIntact(handle);
    stack.emulator.faults.clear();
  });

  test('mid-import: the import is polled to completion by the next worker', async () => {
    const first = startWorkerProcess();
    const { handle } = await start('importing', { import: { account: 'target' } });
    await waitFor(handle, (p) => p.phase === 'importing' && p.importId !== null);
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
