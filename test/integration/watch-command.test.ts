// `carto-ferry watch` against the real stack: a line per change when piped, a redrawn live view in a terminal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXPORT_PHASES, type ExportPhase } from '../../contract/export-messages';
import { startExport } from '../../client/export-client';
import { getProgress } from '../../client/export-progress';
import { pollNow } from '../../client/steer-export';
import { startRealStack, type RealStack } from '../support/real-stack';
import { cartoFerry, cliEnv, startCartoFerry, startCommand, waitFor } from './command-runner';

let stack: RealStack;
let stopWorker: () => Promise<void>;
/** The demo account's maps, read before any import adds to the catalog. */
let maps: string[];

before(async () => {
  stack = await startRealStack({ emulator: { exportSize: 2 * 1024 * 1024, exportDuration: 2_000 } });
  stopWorker = await stack.startWorker();
  maps = stack.emulator
    .maps('demo')
    .filter((m) => m.type === 'derived')
    .map((m) => m.id);
});
after(async () => {
  try {
    await stopWorker?.();
  } finally {
    await stack?.stop();
  }
});

function map(index: number): string {
  assert.ok(maps.length > index, `the emulator has fewer than ${index + 1} maps`);
  return maps[index];
}

/**
 * Starts an export whose polls are an hour apart, so it moves only when the test says `pollNow` (see `driveToEnd`):
 * however slowly the watcher boots, it sees the export waiting.
 */
async function startHeldExport(
  workflowId: string,
  visualizationId: string,
  withImport = false,
): Promise<void> {
  await startExport(
    stack.client,
    {
      source: { account: 'demo', visualizationId },
      destination: { prefix: workflowId },
      ...(withImport ? { import: { account: 'target' } } : {}),
      polling: { initialInterval: '1 hour', maxInterval: '1 hour' },
    },
    { workflowId, taskQueue: stack.taskQueue },
  );
}

/** Tells the export to poll each time it waits, until it closes. */
async function driveToEnd(workflowId: string): Promise<void> {
  await waitFor(
    `${workflowId} to close`,
    async () => {
      const progress = await getProgress(stack.client, workflowId);
      if (progress.status === 'RUNNING' && progress.nextPollAt) await pollNow(stack.client, workflowId);
      return progress;
    },
    (progress) => progress.status !== 'RUNNING',
    30_000,
  );
}

/** Phases in the order the lines show them, consecutive repeats folded. */
function phasesOf(lines: string[]): string[] {
  const phases = lines.map((line) => line.split(' ')[1]);
  return phases.filter((phase, i) => phase !== phases[i - 1]);
}

describe('carto-ferry watch', () => {
  test('piped, prints a line per change with phases in order and exits 0 with the object URI', async () => {
    await startHeldExport('watch-plain', map(0), true);
    const watch = startCartoFerry(stack, 'watch', 'watch-plain', '--interval', '100ms');
    await watch.waitForOutput(/ exporting export=[0-9a-f-]{36} state=pending polls=0 next=\d\d:\d\d:\d\d\n/);
    await driveToEnd('watch-plain');
    const { code, stdout, stderr } = await watch.exited;
    assert.equal(code, 0, stderr);
    assert.ok(!stdout.includes('\x1b'), 'no terminal control codes when stdout is not a TTY');

    const lines = stdout.trim().split('\n');
    const uri = lines.pop();
    assert.match(uri ?? '', /^s3:\/\/carto-exports\/watch-plain\/demo\/.+\.carto$/);
    for (const line of lines) {
      assert.match(line, /^\d\d:\d\d:\d\d (\w+) export=\S+ state=\S+ polls=\d+ next=\S+/);
    }
    const phases = phasesOf(lines);
    const order = phases.map((phase) => EXPORT_PHASES.indexOf(phase as ExportPhase));
    assert.ok(!order.includes(-1), `only known phases: ${phases.join(' → ')}`);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `phases in order: ${phases.join(' → ')}`,
    );
    assert.equal(phases[0], 'exporting');
    assert.ok(phases.includes('importing'), `the import shows: ${phases.join(' → ')}`);
    assert.equal(phases.at(-1), 'done');
    assert.match(lines.at(-1) ?? '', /import-state=complete status=COMPLETED$/);

    const polls = lines.map((line) => Number(/polls=(\d+)/.exec(line)?.[1]));
    assert.deepEqual(
      polls,
      [...polls].sort((a, b) => a - b),
      'polls never go down',
    );
  });

  test('piped, exits 1 with the failure type when the export fails', async () => {
    const visualizationId = map(1);
    stack.emulator.faults.add({ fault: 'exportFails', visualizationId });
    try {
      await startHeldExport('watch-failing', visualizationId);
      const [{ code, stdout, stderr }] = await Promise.all([
        cartoFerry(stack, 'watch', 'watch-failing', '--interval', '100ms'),
        driveToEnd('watch-failing'),
      ]);
      assert.equal(code, 1, stdout);
      assert.match(
        stderr,
        /watch-failing ended FAILED: ExportFailed: CARTO export [0-9a-f-]+ of map .+ ended in state failure/,
      );
      const last = stdout.trim().split('\n').at(-1) ?? '';
      assert.match(last, / failed export=\S+ state=failure .*status=FAILED$/);
    } finally {
      stack.emulator.faults.clear();
    }
  });

  test('in a terminal, redraws one block with a progress bar and exits 0', async () => {
    await startHeldExport('watch-tty', map(2));
    const command = `npx --no-install carto-ferry watch 'watch-tty' --interval 200ms`;
    // util-linux `script` runs the command on a real pseudo-terminal and copies what it draws to stdout.
    const watch = startCommand('script', ['-qfec', command, '/dev/null'], {
      ...cliEnv(stack),
      TERM: 'xterm-256color',
      COLUMNS: '120',
      LINES: '40',
    });
    // While the export waits, the block is redrawn every second (elapsed time, countdown).
    await watch.waitForOutput(/\[\d+A[^]*\[\d+A/);
    await driveToEnd('watch-tty');
    const { code, stdout: drawn, stderr } = await watch.exited;
    const stdout = visibleEscapes(drawn);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /<ESC>\[\d+A/, 'moves the cursor up to redraw the block');
    assert.match(stdout, /<ESC>\[2K/, 'clears each line it redraws');
    assert.match(stdout, /watch-tty {2}run [0-9a-f]{8} {2}RUNNING/);
    assert.match(stdout, /phase {4}exporting/);
    assert.match(stdout, /polls {4}0 {3}next poll in 59m \d\ds/);
    assert.match(
      stdout,
      /copy {5}\[█{30}\] 100% {2}2\.0 MiB of 2\.0 MiB/,
      'a full bar once the copy is done',
    );
    assert.match(stdout, /watch-tty {2}run [0-9a-f]{8} {2}COMPLETED/);
    assert.match(stdout, /elapsed {2}\d+s/);
    assert.match(stdout, /s3:\/\/carto-exports\/watch-tty\/demo\/.+\.carto/);
    // One block redrawn in place: the cursor goes back up over it each time.
    assert.ok((stdout.match(/<ESC>\[\d+A/g) ?? []).length >= 2);
  });
});

/** Terminal output with ESC spelled out, so assertions can name the control sequences. */
function visibleEscapes(text: string): string {
  return text.replaceAll('\x1b', '<ESC>');
}
