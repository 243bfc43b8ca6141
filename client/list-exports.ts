// Finding exports through Temporal visibility, by account, phase and running state, from the typed search attributes.
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import type { ExportPhase } from '../contract/export-messages';
import { WORKFLOW_TYPE } from '../contract/export-visualization';
import { CartoAccount, CartoExportId, CartoPhase, CartoVisualizationId } from '../contract/search-attributes';

export interface ListExportsOptions {
  /** Source account alias (CartoAccount). */
  account?: string;
  /** CartoPhase: exporting, copying, importing, done, failed or cancelled. */
  phase?: ExportPhase;
  /** Only exports whose workflow is running. */
  running?: boolean;
  /** At most this many, newest first; default 100. */
  limit?: number;
}

export interface ExportListing {
  workflowId: string;
  runId: string;
  status: WorkflowExecutionStatusName;
  account: string | null;
  visualizationId: string | null;
  exportId: string | null;
  phase: ExportPhase | null;
  startTime: Date;
  closeTime: Date | null;
}

const DEFAULT_LIMIT = 100;

/** Lists exportVisualization executions matching every given filter; `limit` caps the count. */
export async function listExports(
  client: Client,
  options: ListExportsOptions = {},
): Promise<ExportListing[]> {
  const limit = options.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a whole number >= 1, got ${limit}`);
  }
  const listings: ExportListing[] = [];
  for await (const info of client.workflow.list({
    query: exportListQuery(options),
    pageSize: Math.min(limit, 1000),
  })) {
    const attributes = info.typedSearchAttributes;
    listings.push({
      workflowId: info.workflowId,
      runId: info.runId,
      status: info.status.name,
      account: attributes.get(CartoAccount) ?? null,
      visualizationId: attributes.get(CartoVisualizationId) ?? null,
      exportId: attributes.get(CartoExportId) ?? null,
      phase: (attributes.get(CartoPhase) as ExportPhase | undefined) ?? null,
      startTime: info.startTime,
      closeTime: info.closeTime ?? null,
    });
    if (listings.length >= limit) break;
  }
  return listings;
}

/** The visibility query `listExports` sends; also what to paste into `temporal workflow list --query`. */
export function exportListQuery(options: Omit<ListExportsOptions, 'limit'> = {}): string {
  const clauses = [`WorkflowType = ${quote(WORKFLOW_TYPE)}`];
  if (options.account !== undefined) clauses.push(`${CartoAccount.name} = ${quote(options.account)}`);
  if (options.phase !== undefined) clauses.push(`${CartoPhase.name} = ${quote(options.phase)}`);
  if (options.running) clauses.push(`ExecutionStatus = 'Running'`);
  return clauses.join(' AND ');
}

/** A visibility-query string literal: backslashes and single quotes escaped, so a value can never end the literal. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
