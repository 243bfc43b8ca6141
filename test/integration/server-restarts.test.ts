// Exports outlive their servers: the Temporal dev server restarted while exports wait, S3 gone for a while mid-copy.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { startExport } from '../../client/export-client';
import {
  assertStoredIntact,
  publicMapId,
  waitForCheckpoint,
  waitForProgress,
} from '../support/export-checks';
import { BUCKET, startRealStack, type RealStack } from '../support/real-stack';

const MiB = 1024 * 1024;
let stack: RealStack;
let stopWorker: () => Promise<void>;

before(async () => {
  const dbFilename = path.join(mkdtempSync(path.join(tmpdir(), 'ferry-restart-')), 'temporal.sqlite');
  stack = await startRealStack({ dbFilename, emulator: { exportSize: 24 * MiB, exportDuration: 6000 } });
  stopWorker = await stack.startWorker();
});
after(async () => {
  await stopWorker?.();
  await stack?.stop();
});

function start(name: string) {
  return startExport(
    stack.client,
    {
      source: { account: 'demo', visualizationId: publicMapId(stack.emulator, name.length) },
      destination: { key: `restart/${name}.carto` },
      polling: { initialInterval: 1000, maxInterval: 1000 },
    },
    { workflowId: `restart-${name}`, taskQueue: stack.taskQueue },
  );
}

describe('server restarts', () => {
  test('exports waiting on timers complete after the Temporal server is killed and restarted', async () => {
    const exports = await Promise.all([start('a'), start('bb')]);
    for (const { handle } of exports)
      await waitForProgress(handle, (p) => p.polls >= 1 && p.phase === 'exporting');
    await stack.restartTemporal(2000);
    for (const { handle } of exports) await assertStoredIntact(stack, await handle.result());
  });

  test('a copy survives S3 going away for a few seconds, resuming its upload when S3 is back', async () => {
    // Half the file (two 5 MiB parts and change) arrives, then the download stalls for 10 s; S3 goes down for 12 s
    // meanwhile, so the next part's upload fails and the copy is retried until S3 answers again.
    stack.emulator.faults.set([
      { endpoint: 'export.download', fault: 'stallDownload', fraction: 0.5, pause: 10_000, times: 1 },
    ]);
    const { handle } = await start('ccc');
    const checkpoint = await waitForCheckpoint(handle, 2);
    await stack.restartS3(12_000);
    const result = await handle.result();
    await assertStoredIntact(stack, result);
    const uploads = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual(uploads.Uploads ?? [], []);
    const [first, ...retries] = stack.emulator.downloads(result.exportId);
    const resumedAt = checkpoint.partMd5s.length * stack.config.copy.partSize;
    assert.equal(first?.rangeStart, 0);
    assert.ok(retries.length > 0, 'the copy was retried');
    assert.deepEqual(
      retries.map(({ status, rangeStart }) => ({ status, rangeStart })),
      retries.map(() => ({ status: 206, rangeStart: resumedAt })),
      'every retry asked only for the bytes after the two parts already in S3',
    );
    assert.equal(retries.at(-1)?.bytesSent, result.object.size - resumedAt);
  });
});
