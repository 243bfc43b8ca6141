// Renders an export's progress as the markdown the Web UI shows under "current details", and one-line summaries.
import type { ExportProgress } from '../contract/export-messages';

export function progressMarkdown(progress: ExportProgress, target: string): string {
  const lines = [`**Phase:** ${progress.phase}`, `**Destination:** \`${progress.object?.uri ?? target}\``];
  if (progress.exportId)
    lines.push(`**CARTO export:** \`${progress.exportId}\` — ${progress.exportState ?? 'starting'}`);
  lines.push(`**Polls so far:** ${progress.polls}`);
  if (progress.nextPollAt) lines.push(`**Next poll:** ${progress.nextPollAt}`);
  if (progress.phase === 'copying' || progress.bytesCopied > 0)
    lines.push(`**Copied:** ${bytesLine(progress)}`);
  if (progress.importId)
    lines.push(`**CARTO import:** \`${progress.importId}\` — ${progress.importState ?? 'starting'}`);
  if (progress.error) lines.push(`**Ended:** ${progress.error}`);
  return lines.join('  \n');
}

export function bytesLine(progress: Pick<ExportProgress, 'bytesCopied' | 'totalBytes'>): string {
  const copied = formatBytes(progress.bytesCopied);
  if (!progress.totalBytes) return copied;
  const percent = Math.floor((progress.bytesCopied / progress.totalBytes) * 100);
  return `${copied} of ${formatBytes(progress.totalBytes)} (${percent}%)`;
}

/** "poll #7: exporting, next in 40s" style, for timer and activity summaries. */
export function describeDelay(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
