// Exports outlive their servers: the Temporal dev server restarted while exports wait, S3 gone for a while mid-copy.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { startExport } from '../../client/export-client';
import { progressQuery, type ExportProgress } from '../../contract/export-messages';
import { BUCKET, startRealStack, type RealStack } from '../support/real-stack';

const MiB = 1024 * 1024;
let stack: RealStack;
let stopWorker: () => Promise<void>;

before(async () => {
  const dbFilename = path.join(mkdtempSync(path.join(tmpdir(), 'ferry-restart-')), 'temporal.sqlite');
  stack = await startRealStack({ dbFilename, emulator: { exportSize: 12 * MiB, exportDuration: 6000 } });
  stopWorker = await stack.startWorker();
});
after(async () => {
  await stopWorker?.();
  await stack?.stop();
});

async function waitFor(handle: WorkflowHandle, ready: (p: ExportProgress) => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress && ready(progress)) return;
    assert.ok(Date.now() < deadline, `timed out; last progress ${JSON.stringify(progress)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function assertLandedIntact(handle: WorkflowHandle): Promise<void> {
  const result = await handle.result();
  const served = stack.emulator.exportFilePath(result.exportId);
  assert.ok(served);
  const hash = async (stream: Readable) => {
    const h = createHash('sha256');
    for await (const chunk of stream) h.update(chunk as Buffer);
    return h.digest('hex');
  };
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: result.object.key }));
  assert.equal(await hash(object.Body as Readable), await hash(createReadStream(served)));
}

function start(name: string) {
  const maps = stack.emulator.maps('demo').filter((m) => m.type === 'derived' && m.privacy === 'PUBLIC');
  return startExport(
    stack.client,
    {
      source: { account: 'demo', visualizationId: maps[name.length % maps.length].id },
      destination: { key: `restart/${name}.carto` },
      polling: { initialInterval: 1000, maxInterval: 1000 },
    },
    { workflowId: `restart-${name}`, taskQueue: stack.taskQueue },
  );
}

describe('server restarts', () => {
  test('exports waiting on timers complete after the Temporal server is killed and restarted', async () => {
    const exports = await Promise.all([start('a'), start('bb')]);
    for (const { handle } of exports) await waitFor(handle, (p) => p.polls >= 1 && p.phase === 'exporting');
    await stack.restartTemporal(2000);
    for (const { handle } of exports) await assertLandedIntact(handle);
  });

  test('a copy survives S3 going away for a few seconds', async () => {
    // The download stalls halfway for 8 s; S3 is down for part of that.
    stack.emulator.faults.set([
      { endpoint: 'export.download', fault: 'stallDownload', fraction: 0.5, pause: 8000, times: 1 },
    ]);
    const { handle } = await start('ccc');
    await waitFor(handle, (p) => p.phase === 'copying');
    await stack.restartS3(3000);
    await assertLandedIntact(handle);
    const uploads = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual(uploads.Uploads ?? [], []);
  });
});
