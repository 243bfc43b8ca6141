// watchExport follows an export across continue-as-new (the server suggests it early, so a short export spans runs);
// getProgress still answers once the export has closed and no worker is left to run the query.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { getProgress, startExport, watchExport, type ExportSnapshot } from '../../client';
import { startRealStack, type RealStack } from '../support/real-stack';

let stack: RealStack;
let stopWorker: () => Promise<void>;

before(async () => {
  stack = await startRealStack({
    // Each poll adds about a dozen events, so a run hands over after three or four polls.
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
    emulator: { exportDuration: 6_000, exportSize: 1024 * 1024 },
  });
  stopWorker = await stack.startWorker();
});
after(async () => {
  try {
    await stopWorker?.();
  } finally {
    await stack?.stop();
  }
});

test('watchExport follows continue-as-new to the end: several runs, polls keep counting, ends COMPLETED', async () => {
  const visualizationId = stack.emulator.maps('demo')[0].id;
  const { workflowId, runId: firstRunId } = await startExport(
    stack.client,
    {
      source: { account: 'demo', visualizationId },
      polling: { initialInterval: 100, maxInterval: 200 },
    },
    { workflowId: 'watch-continue-as-new', taskQueue: stack.taskQueue },
  );

  const snapshots: ExportSnapshot[] = [];
  for await (const snapshot of watchExport(stack.client, workflowId, { intervalMs: 100 })) {
    snapshots.push(snapshot);
  }

  const runIds = [...new Set(snapshots.map((s) => s.runId))];
  assert.ok(runIds.length >= 2, `saw runs ${runIds.join(', ')}`);
  assert.equal(runIds[0], firstRunId);

  const polls = snapshots.map((s) => s.polls);
  assert.deepEqual(
    polls,
    [...polls].sort((a, b) => a - b),
    `polls never go down across runs: ${polls.join(' ')}`,
  );
  for (const [earlier, later] of runIds.slice(0, -1).map((id, i) => [id, runIds[i + 1]])) {
    const lastOfEarlier = Math.max(...snapshots.filter((s) => s.runId === earlier).map((s) => s.polls));
    const lastOfLater = Math.max(...snapshots.filter((s) => s.runId === later).map((s) => s.polls));
    assert.ok(
      lastOfLater > lastOfEarlier,
      `run ${later} polled on from ${lastOfEarlier} (got ${lastOfLater})`,
    );
  }

  const last = snapshots.at(-1);
  assert.equal(last?.status, 'COMPLETED');
  assert.equal(last?.phase, 'done');
  assert.equal(last?.runId, runIds.at(-1));
  assert.ok(
    snapshots.slice(0, -1).every((s) => s.status === 'RUNNING'),
    'only the last snapshot is closed',
  );
  const described = await stack.client.workflow.getHandle(workflowId).describe();
  assert.equal(described.runId, last?.runId, 'the last snapshot is from the run that completed');
});

test('getProgress answers for a closed export with no worker to replay it, from its result', async () => {
  const stop = stopWorker;
  stopWorker = async () => undefined;
  await stop();
  const snapshot = await getProgress(stack.client, 'watch-continue-as-new', { queryTimeoutMs: 2_000 });
  const result = await stack.client.workflow.getHandle('watch-continue-as-new').result();
  assert.equal(snapshot.status, 'COMPLETED');
  assert.equal(snapshot.phase, 'done');
  assert.equal(snapshot.polls, result.polls);
  assert.equal(snapshot.exportId, result.exportId);
  assert.deepEqual(snapshot.object, result.object);
  assert.equal(snapshot.startedAt, result.startedAt);

  const watched: ExportSnapshot[] = [];
  for await (const s of watchExport(stack.client, 'watch-continue-as-new', { queryTimeoutMs: 2_000 }))
    watched.push(s);
  assert.deepEqual(watched, [snapshot], 'a closed export yields its final snapshot once');
});
