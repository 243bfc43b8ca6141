// Typed client library: start an export (or attach to the running one), read its status and result.
import { WorkflowIdConflictPolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import {
  DEFAULT_TASK_QUEUE,
  defaultWorkflowId,
  parseExportInput,
  WORKFLOW_TYPE,
  type ExportVisualizationInput,
  type ExportVisualizationResult,
} from '../contract/export-visualization';
import type { exportVisualization } from '../workflows';

export interface StartExportOptions {
  /** Defaults to `carto-export/{account}/{visualizationId}`: one running export per map and account. */
  workflowId?: string;
  taskQueue?: string;
}

export interface StartedExport {
  workflowId: string;
  runId: string;
  /** True when an export with this id was already running and this call attached to it. */
  attached: boolean;
  handle: WorkflowHandle<typeof exportVisualization>;
}

/**
 * Starts exportVisualization, or attaches to the run already under way with the same workflow id.
 * Validates the input first and throws InvalidInputError (naming each field) without starting anything.
 */
export async function startExport(
  client: Client,
  input: ExportVisualizationInput,
  options: StartExportOptions = {},
): Promise<StartedExport> {
  parseExportInput(input);
  const workflowId =
    options.workflowId ?? defaultWorkflowId(input.source.account, input.source.visualizationId);
  const running = await runningRunId(client, workflowId);
  const handle = await client.workflow.start<typeof exportVisualization>(WORKFLOW_TYPE, {
    workflowId,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    // Starting again while one runs returns that run instead of a duplicate (atomic on the server).
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: exportSummary(input),
    staticDetails: exportDetails(input),
  });
  const runId = handle.firstExecutionRunId;
  return { workflowId, runId, attached: running !== undefined && running === runId, handle };
}

/** Waits for the export (following continue-as-new) and returns its result; throws WorkflowFailedError on failure. */
export async function getExportResult(
  client: Client,
  workflowId: string,
): Promise<ExportVisualizationResult> {
  return client.workflow.getHandle<typeof exportVisualization>(workflowId).result();
}

export interface ExportStatus {
  workflowId: string;
  runId: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
  historyLength: number;
}

export async function getExportStatus(client: Client, workflowId: string): Promise<ExportStatus> {
  const description = await client.workflow.getHandle(workflowId).describe();
  return {
    workflowId: description.workflowId,
    runId: description.runId,
    status: description.status.name,
    startTime: description.startTime,
    closeTime: description.closeTime,
    historyLength: description.historyLength,
  };
}

async function runningRunId(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING' ? description.runId : undefined;
  } catch {
    return undefined;
  }
}

/** One line for the Web UI's summary: what is exported, from where, to where. */
export function exportSummary(input: ExportVisualizationInput): string {
  const destination = input.destination ?? {};
  const bucket = destination.bucket ?? '(worker bucket)';
  const key =
    destination.key ?? `${destination.prefix ?? ''}${input.source.account}/${input.source.visualizationId}/…`;
  const then = input.import ? `, then import into ${input.import.account}` : '';
  return `Export map ${input.source.visualizationId} of ${input.source.account} → s3://${bucket}/${key}${then}`;
}

/** Markdown details for the Web UI: the request as given, without anything secret (the input holds none). */
export function exportDetails(input: ExportVisualizationInput): string {
  const lines = [
    `**Source:** account \`${input.source.account}\`, map \`${input.source.visualizationId}\``,
    input.source.userTablesIds?.length
      ? `**Tables:** ${input.source.userTablesIds.map((id) => `\`${id}\``).join(', ')}`
      : '',
    `**Destination:** ${exportSummary(input).split('→ ')[1].split(', then')[0]}`,
    input.import
      ? `**Import into:** \`${input.import.account}\` via ${input.import.via ?? 'url'} (create map: ${input.import.createVisualization ?? true})`
      : '',
    input.polling ? `**Polling:** \`${JSON.stringify(input.polling)}\`` : '',
  ];
  return lines.filter(Boolean).join('  \n');
}
