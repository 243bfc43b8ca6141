// `carto-ferry watch`: a live view on a terminal, a line per change otherwise, and the export's outcome as exit code.
import type { Client } from '@temporalio/client';
import { getExportOutcome, isClosed } from './export-outcome';
import type { ExportSnapshot } from './export-progress';
import { LiveBlock } from './live-block';
import { progressBlock, progressLine } from './progress-view';
import { watchExport } from './watch-export';

export interface WatchCommandOptions {
  intervalMs: number;
  /** Redraw one block in place (a terminal that understands cursor movement); otherwise print a line per change. */
  live: boolean;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Follows the export until it closes; returns 0 if it completed (printing the object URI), 1 otherwise. */
export async function watchCommand(
  client: Client,
  workflowId: string,
  { intervalMs, live: redrawInPlace, stdout, stderr }: WatchCommandOptions,
): Promise<number> {
  const live = redrawInPlace ? new LiveBlock(stdout) : undefined;
  let latest: ExportSnapshot | undefined;
  let endedAt: number | undefined;
  const redraw = () => {
    if (live && latest) live.render(progressBlock(latest, workflowId, endedAt ?? Date.now()));
  };
  // Between snapshots the elapsed time and the countdown to the next poll still move.
  const ticker = live ? setInterval(redraw, 1_000) : undefined;
  try {
    for await (const snapshot of watchExport(client, workflowId, { intervalMs })) {
      latest = snapshot;
      if (isClosed(snapshot.status)) endedAt = Date.now();
      if (live) redraw();
      else stdout.write(`${progressLine(snapshot, new Date())}\n`);
    }
  } finally {
    clearInterval(ticker);
  }
  const outcome = await getExportOutcome(client, workflowId);
  if (outcome.status === 'COMPLETED') {
    stdout.write(`${outcome.result.object.uri}\n`);
    return 0;
  }
  stderr.write(
    outcome.status === 'CANCELLED'
      ? `carto-ferry: export ${workflowId} cancelled\n`
      : `carto-ferry: export ${workflowId} ended ${outcome.status}: ${outcome.failure.type}: ${outcome.failure.message}\n`,
  );
  return 1;
}
