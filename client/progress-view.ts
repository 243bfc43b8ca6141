// Renders progress snapshots for people: a one-line-per-change log, and the block `carto-ferry watch` redraws on a TTY.
import { formatBytes } from '../workflows/progress-details';
import type { ExportSnapshot } from './export-progress';

const BAR_WIDTH = 30;

/** `12:00:01 exporting export=… state=exporting polls=3 next=12:00:05`, plus copy, import and final status. */
export function progressLine(snapshot: ExportSnapshot, at: Date): string {
  const parts = [
    clock(at),
    snapshot.phase,
    `export=${snapshot.exportId ?? '-'}`,
    `state=${snapshot.exportState ?? '-'}`,
    `polls=${snapshot.polls}`,
    `next=${snapshot.nextPollAt ? clock(new Date(snapshot.nextPollAt)) : '-'}`,
  ];
  const copy = copied(snapshot);
  if (copy)
    parts.push(`copied=${formatBytes(copy.bytes)}/${copy.total === null ? '?' : formatBytes(copy.total)}`);
  if (snapshot.importId)
    parts.push(`import=${snapshot.importId}`, `import-state=${snapshot.importState ?? '-'}`);
  if (snapshot.status !== 'RUNNING') parts.push(`status=${snapshot.status}`);
  return parts.join(' ');
}

/** The live view's lines; `now` drives the elapsed time and the countdown to the next poll. */
export function progressBlock(snapshot: ExportSnapshot, workflowId: string, now: number): string[] {
  const exportLine = snapshot.exportId
    ? `${snapshot.exportId}  ${snapshot.exportState ?? 'starting'}`
    : snapshot.phase === 'exporting'
      ? 'starting'
      : '—';
  const next = snapshot.nextPollAt ? Date.parse(snapshot.nextPollAt) - now : null;
  const copy = copied(snapshot);
  const lines = [
    `${workflowId}  run ${snapshot.runId.slice(0, 8)}  ${snapshot.status}`,
    `  phase    ${snapshot.phase}`,
    `  export   ${exportLine}`,
    `  polls    ${snapshot.polls}${next === null ? '' : `   next poll in ${formatElapsed(next)}`}`,
    `  copy     ${copy ? copyLine(copy.bytes, copy.total) : '—'}`,
    `  import   ${snapshot.importId ? `${snapshot.importId}  ${snapshot.importState ?? 'starting'}` : '—'}`,
    `  elapsed  ${formatElapsed(now - Date.parse(snapshot.startedAt))}`,
  ];
  if (snapshot.object) lines.push(`  object   ${snapshot.object.uri}`);
  if (snapshot.error) lines.push(`  ended    ${snapshot.error}`);
  return lines;
}

/** `[██████░░░░]  60%  1.2 MiB of 2.0 MiB`; without a total, just the bytes so far. */
export function copyLine(bytes: number, total: number | null): string {
  if (!total) return formatBytes(bytes);
  const fraction = Math.min(1, bytes / total);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}]`;
  return `${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(bytes)} of ${formatBytes(total)}`;
}

/** `1h 02m 03s`, `2m 05s`, `7s`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

/**
 * Bytes copied so far, or the stored size once the object has landed (the workflow's last copy report may be short of
 * the total: reports are rate-limited); undefined before any copy.
 */
function copied(snapshot: ExportSnapshot): { bytes: number; total: number | null } | undefined {
  if (snapshot.object) return { bytes: snapshot.object.size, total: snapshot.object.size };
  if (snapshot.phase === 'copying' || snapshot.bytesCopied > 0) {
    return { bytes: snapshot.bytesCopied, total: snapshot.totalBytes };
  }
  return undefined;
}

function clock(at: Date): string {
  return at.toTimeString().slice(0, 8);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
