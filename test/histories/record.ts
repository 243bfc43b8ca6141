// `npm run record-histories`: runs each kind of export on the real stack and saves its histories for the replay test.
// Re-record only for a deliberate, patched change; the committed files are what proves older runs still replay.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { startExport } from '../../client/export-client';
import { findBinary } from '../../local-stack/binaries';
import { pollNowSignal, progressQuery } from '../../contract/export-messages';
import type { ExportVisualizationInput } from '../../contract/export-visualization';
import { startRealStack, type RealStack } from '../support/real-stack';

const OUT = __dirname;

/** Saves each run's history in the format `temporal workflow show --output json` writes (what users would attach). */
async function saveAllRuns(stack: RealStack, name: string, handle: WorkflowHandle, firstRunId: string): Promise<number> {
  let runId: string | undefined = firstRunId;
  let index = 0;
  while (runId) {
    const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await stack.client.workflow
      .getHandle(handle.workflowId, runId)
      .fetchHistory();
    const suffix = index === 0 ? '' : `-run${index + 1}`;
    const json = execFileSync(findBinary('temporal'), [
      'workflow', 'show', '--workflow-id', handle.workflowId, '--run-id', runId, '--output', 'json', '--address', stack.temporalAddress,
    ]);
    const file = path.join(OUT, `${name}${suffix}.json`);
    // Histories already committed stay as they are: they stand for runs recorded by older code.
    if (!existsSync(file)) writeFileSync(file, json);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    index += 1;
  }
  return index;
}

async function record(stack: RealStack, name: string, input: ExportVisualizationInput, act?: (h: WorkflowHandle) => Promise<void>) {
  const { handle, runId } = await startExport(stack.client, input, { workflowId: `history-${name}`, taskQueue: stack.taskQueue });
  await act?.(handle);
  await handle.result().catch(() => undefined);
  console.log(`${name}: ${await saveAllRuns(stack, name, handle, runId)} run(s)`);
}

async function main(): Promise<void> {
  // Continue-as-new after ~40 events, so a short export still produces a multi-run chain.
  const stack = await startRealStack({
    emulator: { exportDuration: 3000, importDuration: 1000 },
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40 },
  });
  const stop = await stack.startWorker();
  try {
    const map = stack.emulator.maps('demo').find((m) => m.type === 'derived' && m.privacy === 'PUBLIC')!.id;
    const source = { account: 'demo', visualizationId: map };
    const polling = { initialInterval: 200, maxInterval: 400 };
    await record(stack, 'success-with-import', { source, import: { account: 'target' }, polling });
    await record(stack, 'failure-not-found', { source: { account: 'demo', visualizationId: '00000000-0000-4000-8000-000000000000' } });
    stack.emulator.faults.set([{ endpoint: 'export.create', fault: 'exportFails', times: 1 }]);
    await record(stack, 'failure-export-failed', { source, polling });
    stack.emulator.faults.set([{ endpoint: 'export.download', fault: 'expireUrl', times: 1 }]);
    await record(stack, 'reexport-after-expired-url', { source, polling: { initialInterval: 1000 } });
    stack.emulator.faults.set([{ endpoint: 'export.create', fault: 'exportStuck', times: 1 }]);
    await record(stack, 'cancelled-while-waiting', { source, polling: { initialInterval: '1 hour' } }, async (handle) => {
      await handle.signal(pollNowSignal);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await handle.cancel();
    });
    // Since patch keep-early-poll-now: pollNow sent while an activity runs is honoured at the next wait.
    await record(stack, 'poll-now-during-activity', { source, polling: { initialInterval: '1 hour' } }, async (handle) => {
      for (let i = 0; i < 60; i++) {
        await handle.signal(pollNowSignal);
        await new Promise((resolve) => setTimeout(resolve, 250));
        const described = await handle.describe();
        if (described.status.name !== 'RUNNING') return;
      }
    });
    // Since patch abort-abandoned-uploads: a copy that is given up (here: its URL expired) is followed by a cleanup.
    stack.emulator.faults.set([{ endpoint: 'export.download', fault: 'expireUrl', times: 1 }]);
    await record(stack, 'abort-uploads-after-expired-url', { source, polling: { initialInterval: 1000 } });
    stack.emulator.faults.set([{ endpoint: 'export.download', fault: 'stallDownload', pause: 600_000, times: 1 }]);
    await record(stack, 'cancelled-while-copying', { source, polling }, async (handle) => {
      while ((await handle.query(progressQuery)).phase !== 'copying') await new Promise((r) => setTimeout(r, 200));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await handle.cancel();
    });
    // A pollNow that arrives during a slow poll is pending at each hand-over and carried into the next run.
    stack.emulator.faults.set([{ endpoint: 'export.show', fault: 'slow', delay: 1000 }]);
    await record(stack, 'poll-now-carried-across-runs', { source, polling: { initialInterval: '1 hour' } }, async (handle) => {
      for (let i = 0; i < 120; i++) {
        await handle.signal(pollNowSignal);
        await new Promise((resolve) => setTimeout(resolve, 250));
        const described = await handle.describe();
        if (described.status.name !== 'RUNNING') return;
      }
    });
    stack.emulator.faults.clear();
    // Started like a Temporal CLI user would, bypassing the client's validation.
    const invalid = await stack.client.workflow.start('exportVisualization', {
      workflowId: 'history-invalid-input',
      taskQueue: stack.taskQueue,
      args: [{ source: { account: 'demo' } }],
    });
    await invalid.result().catch(() => undefined);
    console.log(`invalid-input: ${await saveAllRuns(stack, 'invalid-input', invalid, invalid.firstExecutionRunId)} run(s)`);
  } finally {
    await stop();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
