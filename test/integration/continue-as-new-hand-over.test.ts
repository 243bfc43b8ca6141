// The hand-over to a new run (continue-as-new, suggested early here) keeps polls, pending signals and progress intact.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startExport } from '../../client/export-client';
import { pollNowSignal, progressQuery } from '../../contract/export-messages';
import type { ExportProgress } from '../../contract/export-messages';
import { assertStoredIntact, publicMapId } from '../support/export-checks';
import { startRealStack, type RealStack } from '../support/real-stack';
import { historiesOfAllRuns } from '../support/workflow-runs';

let stack: RealStack;
let stopWorker: () => Promise<void>;

before(async () => {
  stack = await startRealStack({
    // A run hands over after a few polls, so one short export spans several runs.
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
    emulator: { exportDuration: 25_000, exportSize: 1024 * 1024 },
  });
  // Every state poll takes 1.5 s, so pollNow signals sent every 0.5 s always land while a poll is running.
  stack.emulator.faults.set([{ endpoint: 'export.show', fault: 'slow', delay: 1500 }]);
  stopWorker = await stack.startWorker();
});
after(async () => {
  try {
    await stopWorker?.();
  } finally {
    await stack?.stop();
  }
});

test('a pollNow pending at the hand-over is honoured by the next run; polls and progress carry over', async () => {
  const { handle, runId: firstRunId } = await startExport(
    stack.client,
    {
      source: { account: 'demo', visualizationId: publicMapId(stack.emulator) },
      destination: { key: 'hand-over/map.carto' },
      // Without pollNow the next poll would be an hour away: every poll in this test is one a signal asked for.
      polling: { initialInterval: '1 hour', maxInterval: '1 hour', timeout: '2 hours' },
    },
    { workflowId: 'hand-over', taskQueue: stack.taskQueue },
  );

  const seen: ExportProgress[] = [];
  const outcome = handle.result();
  let finished = false;
  void outcome.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    await handle.signal(pollNowSignal).catch(() => undefined);
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress) seen.push(progress);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const result = await outcome;
  await assertStoredIntact(stack, result);

  const runs = await historiesOfAllRuns(stack.client, handle.workflowId, firstRunId);
  assert.ok(
    runs.length >= 3,
    `the export spanned ${runs.length} runs; the lowered threshold should give several`,
  );
  for (const [index, run] of runs.slice(1).entries()) {
    // Each hand-over happened right after a poll during which pollNow arrived: the next run must poll at once,
    // not start the hour-long timer first.
    const firstCommand = run.events?.find(
      (e) => e.timerStartedEventAttributes || e.activityTaskScheduledEventAttributes,
    );
    assert.equal(
      firstCommand?.activityTaskScheduledEventAttributes?.activityType?.name,
      'checkExport',
      `run ${index + 2} began with ${firstCommand?.timerStartedEventAttributes ? 'a timer' : 'nothing'}: the pending pollNow was dropped`,
    );
  }

  // Polls count on across runs: the result counts every poll that any run made.
  const pollsMade = runs
    .flatMap((run) => run.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkExport').length;
  assert.equal(result.polls, pollsMade);
  const polls = seen.map((p) => p.polls);
  assert.deepEqual(
    polls,
    [...polls].sort((a, b) => a - b),
    `progress never went back: ${polls.join(' ')}`,
  );
  assert.ok(
    seen.every((p) => p.exportId === null || p.exportId === result.exportId),
    'one export id throughout',
  );
});
