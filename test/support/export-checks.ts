// Checks the integration tests share: wait for a progress condition, hash streams, and prove an export landed intact.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import type { CopyCheckpoint } from '../../activities/copy-checkpoint';
import { lastCopyHeartbeat } from '../../client/copy-heartbeat';
import type { RunningEmulator } from '../../carto-emulator/emulator';
import { progressQuery, type ExportProgress } from '../../contract/export-messages';
import type { ExportVisualizationResult } from '../../contract/export-visualization';
import { BUCKET, type RealStack } from './real-stack';

export async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The first public map of the emulator's `demo` user: exportable by anyone. */
export function publicMapId(emulator: RunningEmulator, index = 0): string {
  const maps = emulator.maps('demo').filter((m) => m.type === 'derived' && m.privacy === 'PUBLIC');
  assert.ok(maps.length > 0, 'the emulator has a public map');
  return maps[index % maps.length].id;
}

/** Polls the progress query until `ready` holds; a query that fails meanwhile (worker restarting) just waits. */
export async function waitForProgress(
  handle: WorkflowHandle,
  ready: (progress: ExportProgress) => boolean,
  timeoutMs = 60_000,
): Promise<ExportProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress && ready(progress)) return progress;
    assert.ok(Date.now() < deadline, `timed out waiting; last progress ${JSON.stringify(progress)}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The copy's checkpoint as the server holds it (the last heartbeat it received), once it has `parts` parts. */
export async function waitForCheckpoint(handle: WorkflowHandle, parts: number): Promise<CopyCheckpoint> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const details = await lastCopyHeartbeat(handle);
    if (details?.checkpoint && details.checkpoint.partMd5s.length >= parts) return details.checkpoint;
    if (Date.now() > deadline)
      assert.fail(`no checkpoint with ${parts} parts within a minute: ${JSON.stringify(details)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Asserts the stored object is byte-identical to the file the emulator served for this export. */
export async function assertStoredIntact(stack: RealStack, result: ExportVisualizationResult): Promise<void> {
  const served = stack.emulator.exportFilePath(result.exportId);
  assert.ok(served, `the emulator served a file for export ${result.exportId}`);
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: result.object.key }));
  assert.equal(
    await sha256(object.Body as Readable),
    await sha256(createReadStream(served)),
    `${result.object.uri} is intact`,
  );
}
