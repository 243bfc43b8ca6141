// Renders `carto-ferry list` results as an aligned text table.
import type { ExportListing } from './list-exports';

const COLUMNS: { title: string; value: (listing: ExportListing) => string }[] = [
  { title: 'WORKFLOW ID', value: (l) => l.workflowId },
  { title: 'STATUS', value: (l) => l.status },
  { title: 'PHASE', value: (l) => l.phase ?? '-' },
  { title: 'ACCOUNT', value: (l) => l.account ?? '-' },
  { title: 'EXPORT ID', value: (l) => l.exportId ?? '-' },
  { title: 'STARTED', value: (l) => l.startTime.toISOString() },
  { title: 'CLOSED', value: (l) => l.closeTime?.toISOString() ?? '-' },
];

export function formatExportTable(listings: readonly ExportListing[]): string {
  const rows = [COLUMNS.map((c) => c.title), ...listings.map((l) => COLUMNS.map((c) => c.value(l)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
