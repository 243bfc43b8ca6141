// Inspecting and steering exports from the command line: poll-now, list, cancel, status, setup, and the temporal CLI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ExportProgress } from '../../contract/export-messages';
import type { ExportVisualizationInput } from '../../contract/export-visualization';
import { startExport } from '../../client/export-client';
import { getProgress, type ExportSnapshot } from '../../client/export-progress';
import { exportListQuery, listExports, type ExportListing } from '../../client/list-exports';
import { cancelExport, pollNow } from '../../client/steer-export';
import { startTemporalDevServer } from '../../local-stack/temporal-dev-server';
import { startRealStack, type RealStack } from '../support/real-stack';
import { cartoFerry, runCommand, temporal, waitFor } from './command-runner';
import { findBinary } from '../../local-stack/binaries';

let stack: RealStack;
let stopWorker: () => Promise<void>;
/** Seeded maps: two public ones, then a private one that the `wrong-key` account may not export. */
let publicMap: string;
let stuckMap: string;
let privateMap: string;

before(async () => {
  stack = await startRealStack({ emulator: { exportSize: 1024 * 1024, exportDuration: 1_500 } });
  stopWorker = await stack.startWorker();
  const maps = stack.emulator.maps('demo').filter((m) => m.type === 'derived');
  [publicMap, stuckMap, privateMap] = maps.map((m) => m.id);
  // Every export of this map stays `exporting` forever: an export that is waiting when we look.
  stack.emulator.faults.add({ fault: 'exportStuck', visualizationId: stuckMap });
});
after(async () => {
  try {
    await stopWorker?.();
  } finally {
    await stack?.stop();
  }
});

async function start(
  workflowId: string,
  {
    account = 'demo',
    map,
    polling,
  }: { account?: string; map: string; polling?: ExportVisualizationInput['polling'] },
) {
  await startExport(
    stack.client,
    {
      source: { account, visualizationId: map },
      polling: polling ?? { initialInterval: '200ms', maxInterval: '400ms' },
    },
    { workflowId, taskQueue: stack.taskQueue },
  );
}

function progressOf(workflowId: string): Promise<ExportSnapshot> {
  return getProgress(stack.client, workflowId);
}

/** Waits until an export is polling a CARTO export that is still `exporting`. */
function waitUntilWaitingOnCarto(workflowId: string): Promise<ExportSnapshot> {
  return waitFor(
    `${workflowId} to wait on CARTO`,
    () => progressOf(workflowId),
    (p) => p.exportState === 'exporting' && p.polls >= 1,
  );
}

function ids(listings: ExportListing[]): string[] {
  return listings.map((l) => l.workflowId).sort();
}

async function listJson(...args: string[]): Promise<ExportListing[]> {
  const { code, stdout, stderr } = await cartoFerry(stack, 'list', '--json', ...args);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as ExportListing[];
}

describe('inspect and steer', () => {
  test('poll-now cuts an hour-long wait short: a poll happens within seconds', async () => {
    const workflowId = 'steer-poll-now';
    await start(workflowId, {
      map: publicMap,
      polling: { initialInterval: '1 hour', maxInterval: '2 hours' },
    });
    const waiting = await waitFor(
      'the first wait',
      () => progressOf(workflowId),
      (p) => p.nextPollAt !== null,
    );
    assert.equal(waiting.polls, 0);
    assert.ok(
      Date.parse(waiting.nextPollAt as string) > Date.now() + 50 * 60_000,
      'the next poll is an hour away',
    );

    const asked = Date.now();
    const { code, stdout, stderr } = await cartoFerry(stack, 'poll-now', workflowId);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /Asked steer-poll-now to poll now/);
    const polled = await waitFor(
      'a poll after poll-now',
      () => progressOf(workflowId),
      (p) => p.polls >= 1,
      10_000,
    );
    assert.ok(Date.now() - asked < 10_000);
    assert.ok(polled.polls >= 1);

    // The export finishes whenever it is told to poll; without poll-now it would take hours.
    const done = await waitFor(
      'the export to complete on poll-now',
      async () => {
        const p = await progressOf(workflowId);
        if (p.status === 'RUNNING' && p.nextPollAt) await pollNow(stack.client, workflowId);
        return p;
      },
      (p) => p.status === 'COMPLETED',
    );
    assert.equal(done.phase, 'done');
  });

  test('list finds exports by phase, account and running state, as `temporal workflow list` does', async () => {
    await start('list-stuck', { map: stuckMap });
    await start('list-done', { map: publicMap });
    await start('list-failed', { account: 'wrong-key', map: privateMap });
    await waitUntilWaitingOnCarto('list-stuck');
    await stack.client.workflow.getHandle('list-done').result();
    await assert.rejects(stack.client.workflow.getHandle('list-failed').result());
    // Visibility is updated shortly after the workflow upserts its search attributes.
    await waitFor(
      'visibility to show the three exports in their phases',
      () => listExports(stack.client),
      (all) =>
        all.some((l) => l.workflowId === 'list-stuck' && l.phase === 'exporting' && l.exportId !== null) &&
        all.some((l) => l.workflowId === 'list-done' && l.phase === 'done') &&
        all.some((l) => l.workflowId === 'list-failed' && l.phase === 'failed'),
    );

    const exporting = await listJson('--phase', 'exporting');
    assert.ok(ids(exporting).includes('list-stuck'));
    assert.ok(!ids(exporting).includes('list-done') && !ids(exporting).includes('list-failed'));
    const stuck = exporting.find((l) => l.workflowId === 'list-stuck');
    assert.equal(stuck?.status, 'RUNNING');
    assert.equal(stuck?.account, 'demo');
    assert.equal(stuck?.visualizationId, stuckMap);
    assert.equal(stuck?.exportId, (await progressOf('list-stuck')).exportId);
    assert.equal(stuck?.closeTime, null);

    const wrongKey = await listJson('--account', 'wrong-key');
    assert.deepEqual(ids(wrongKey), ['list-failed']);
    assert.equal(wrongKey[0].status, 'FAILED');
    assert.equal(wrongKey[0].phase, 'failed');
    assert.ok(wrongKey[0].closeTime);

    const running = await listJson('--running');
    assert.ok(ids(running).includes('list-stuck'));
    assert.ok(running.every((l) => l.status === 'RUNNING'));
    const doneInDemo = await listJson('--account', 'demo', '--phase', 'done');
    assert.ok(ids(doneInDemo).includes('list-done'));
    assert.ok(doneInDemo.every((l) => l.account === 'demo' && l.phase === 'done'));
    assert.equal((await listJson('--limit', '1')).length, 1);

    const table = await cartoFerry(stack, 'list', '--phase', 'exporting');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^WORKFLOW ID +STATUS +PHASE +ACCOUNT +EXPORT ID +STARTED +CLOSED\n/);
    assert.match(table.stdout, /\nlist-stuck +RUNNING +exporting +demo +[0-9a-f-]{36} /);

    // The real temporal CLI, with the query users type, finds the same exports.
    const listed = await temporal(
      stack,
      'workflow',
      'list',
      '--query',
      "CartoPhase='exporting'",
      '--output',
      'json',
    );
    assert.equal(listed.code, 0, listed.stderr);
    const fromTemporal = parseJsonValues(listed.stdout).map(
      (e) => (e as { execution: { workflowId: string } }).execution.workflowId,
    );
    assert.deepEqual(fromTemporal.sort(), ids(await listJson('--phase', 'exporting')));

    // Values are quoted: one that tries to close the literal just matches nothing.
    assert.equal(
      exportListQuery({ account: "o'brien" }),
      "WorkflowType = 'exportVisualization' AND CartoAccount = 'o\\'brien'",
    );
    assert.deepEqual(await listExports(stack.client, { account: "x' OR CartoAccount = 'demo" }), []);
    assert.deepEqual(await listExports(stack.client, { account: 'back\\slash' }), []);

    const badPhase = await cartoFerry(stack, 'list', '--phase', 'sleeping');
    assert.equal(badPhase.code, 2);
    assert.match(badPhase.stderr, /exporting, copying, importing, done, failed, cancelled/);
    await cancelExport(stack.client, 'list-stuck');
  });

  test('temporal workflow query --name progress returns the progress of a running export; terminated, it reads failed', async () => {
    await start('query-stuck', { map: stuckMap });
    const seen = await waitUntilWaitingOnCarto('query-stuck');
    const { code, stdout, stderr } = await temporal(
      stack,
      'workflow',
      'query',
      '--workflow-id',
      'query-stuck',
      '--name',
      'progress',
      '--output',
      'json',
    );
    assert.equal(code, 0, stderr);
    const progress = findProgress(parseJsonValues(stdout));
    assert.equal(progress.phase, 'exporting');
    assert.equal(progress.exportState, 'exporting');
    assert.equal(progress.exportId, seen.exportId);
    assert.ok(progress.polls >= seen.polls);
    assert.equal(progress.object, null);

    const status = await cartoFerry(stack, 'status', 'query-stuck');
    assert.equal(status.code, 0, status.stderr);
    const described = JSON.parse(status.stdout) as { status: string; progress: ExportProgress };
    assert.equal(described.status, 'RUNNING');
    assert.equal(described.progress.phase, 'exporting');
    assert.equal(described.progress.exportId, seen.exportId);

    // Terminated from outside, the workflow never records an end phase; progress and watch still tell how it ended.
    await stack.client.workflow.getHandle('query-stuck').terminate('stopped by the test');
    const ended = await progressOf('query-stuck');
    assert.equal(ended.status, 'TERMINATED');
    assert.equal(ended.phase, 'failed');
    assert.equal(ended.nextPollAt, null);
    assert.match(ended.error ?? '', /stopped by the test/);
    const watched = await cartoFerry(stack, 'watch', 'query-stuck');
    assert.equal(watched.code, 1);
    assert.match(watched.stdout, / failed export=\S+ state=exporting .*status=TERMINATED$/m);
    assert.match(watched.stderr, /query-stuck ended TERMINATED: Terminated: stopped by the test/);
  });

  test('cancel ends an export stuck waiting on CARTO: CANCELLED, phase cancelled; steering it again exits 1', async () => {
    const workflowId = 'cancel-stuck';
    await start(workflowId, { map: stuckMap });
    await waitUntilWaitingOnCarto(workflowId);

    const cancelled = await cartoFerry(stack, 'cancel', workflowId);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /Cancellation requested for cancel-stuck/);
    const handle = stack.client.workflow.getHandle(workflowId);
    await waitFor(
      'the workflow to close',
      () => handle.describe(),
      (d) => d.status.name !== 'RUNNING',
    );
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    const progress = await progressOf(workflowId);
    assert.equal(progress.status, 'CANCELLED');
    assert.equal(progress.phase, 'cancelled');
    assert.equal(progress.nextPollAt, null);

    const status = await cartoFerry(stack, 'status', workflowId);
    const described = JSON.parse(status.stdout) as { status: string; progress: ExportProgress };
    assert.equal(described.status, 'CANCELLED');
    assert.equal(described.progress.phase, 'cancelled');
    await waitFor(
      'visibility to show phase cancelled',
      () => listExports(stack.client, { phase: 'cancelled' }),
      (listings) => ids(listings).includes(workflowId),
    );

    const again = await cartoFerry(stack, 'cancel', workflowId);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /cancel-stuck has already ended \(CANCELLED\)/);
    const poll = await cartoFerry(stack, 'poll-now', workflowId);
    assert.equal(poll.code, 1);
    assert.match(poll.stderr, /already ended \(CANCELLED\)/);
    const missing = await cartoFerry(stack, 'cancel', 'no-such-export');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such export: no-such-export/);
  });

  test('setup registers the search attributes on a bare server, and running it again changes nothing', async () => {
    const bare = await startTemporalDevServer({ uiPort: false });
    try {
      const setup = (address: string) =>
        cartoFerry(stack, '--address', address, 'setup').then((r) => {
          assert.equal(r.code, 0, r.stderr);
          return r.stdout;
        });
      const listOnBare = () =>
        runCommand(
          findBinary('temporal'),
          ['workflow', 'list', '--query', "CartoPhase='exporting'", '--address', bare.address],
          process.env,
        );
      assert.notEqual((await listOnBare()).code, 0, 'CartoPhase is unknown before setup');

      const first = await setup(bare.address);
      for (const name of ['CartoAccount', 'CartoVisualizationId', 'CartoExportId', 'CartoPhase']) {
        assert.match(first, new RegExp(`^${name} \\(Keyword\\): added$`, 'm'));
      }
      assert.match(first, /4 search attribute\(s\) added, 0 already present/);
      const second = await setup(bare.address);
      assert.match(second, /^CartoPhase \(Keyword\): already registered$/m);
      assert.match(second, /0 search attribute\(s\) added, 4 already present/);
      const listed = await listOnBare();
      assert.equal(listed.code, 0, listed.stderr);

      // The test stack registered them at start: setup there is a no-op, twice.
      for (let i = 0; i < 2; i++) {
        assert.match(await setup(stack.temporalAddress), /0 search attribute\(s\) added, 4 already present/);
      }
    } finally {
      await bare.stop();
    }
  });
});

/** The temporal CLI prints JSON as one document, an array, or one document per line. */
function parseJsonValues(text: string): unknown[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  try {
    const value: unknown = JSON.parse(trimmed);
    return Array.isArray(value) ? value : [value];
  } catch {
    return trimmed.split('\n').map((line) => JSON.parse(line) as unknown);
  }
}

/** The progress object inside `temporal workflow query --output json`, wherever the CLI nests it. */
function findProgress(values: unknown[]): ExportProgress {
  const queue = [...values];
  while (queue.length) {
    const value = queue.shift();
    if (value && typeof value === 'object') {
      if ('phase' in value && 'polls' in value) return value as ExportProgress;
      queue.push(...Object.values(value));
    }
  }
  throw new Error(`no progress in ${JSON.stringify(values)}`);
}
