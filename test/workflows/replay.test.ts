// Replays histories recorded from real runs against today's workflow code: a change that breaks determinism fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { installQuietRuntime } from '../support/quiet-runtime';
import { workflowBundle } from '../support/workflow-bundle';

const HISTORIES = path.resolve(__dirname, '../histories');

test('every recorded history replays without a determinism error', async () => {
  installQuietRuntime();
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 6, `expected recorded histories in ${HISTORIES}, found ${files.length}`);
  const histories = files.map((file) => ({
    workflowId: file,
    // The CLI's JSON export, as users would attach it; the SDK converts it.
    history: JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as unknown,
  }));
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: await workflowBundle() },
    histories,
  )) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.equal(replayed, files.length);
  assert.deepEqual(failures, []);
});

test('replay catches a history that the code would not produce', async () => {
  installQuietRuntime();
  const history = JSON.parse(readFileSync(path.join(HISTORIES, 'success-with-import.json'), 'utf8')) as {
    events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
  };
  const scheduled = history.events.find((event) => event.activityTaskScheduledEventAttributes);
  assert.equal(scheduled?.activityTaskScheduledEventAttributes?.activityType?.name, 'startExport');
  // As if an older version had called a different activity first: the same mismatch a careless change would cause.
  scheduled!.activityTaskScheduledEventAttributes!.activityType!.name = 'legacyStartExport';
  await assert.rejects(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'tampered'),
    (error: Error) => error.name === 'DeterminismViolationError',
  );
});
