// Steering a running export: cancel it, or make it poll CARTO now instead of at the end of its current wait.
import { WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { pollNowSignal } from '../contract/export-messages';

/** The export exists but has already closed, so there is nothing left to steer. */
export class ExportAlreadyClosedError extends Error {
  override name = 'ExportAlreadyClosedError';
  constructor(
    readonly workflowId: string,
    readonly status: WorkflowExecutionStatusName,
  ) {
    super(`Export ${workflowId} has already ended (${status})`);
  }
}

/**
 * Requests Temporal cancellation of the export's latest run: the workflow stops waiting or copying (an unfinished
 * multipart upload is aborted), records phase `cancelled` and ends CANCELLED. Returns once the request is accepted;
 * throws ExportAlreadyClosedError if the export has already ended, WorkflowNotFoundError if there is no such export.
 */
export async function cancelExport(client: Client, workflowId: string): Promise<void> {
  // The server accepts a cancellation of a closed workflow as a no-op; say so instead of pretending it worked.
  const { status } = await client.workflow.getHandle(workflowId).describe();
  if (status.name !== 'RUNNING') throw new ExportAlreadyClosedError(workflowId, status.name);
  await steer(client, workflowId, (handle) => handle.cancel());
}

/** Signals `pollNow`: an export or import waiting for its next poll polls at once. */
export async function pollNow(client: Client, workflowId: string): Promise<void> {
  await steer(client, workflowId, (handle) => handle.signal(pollNowSignal));
}

async function steer(
  client: Client,
  workflowId: string,
  act: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<unknown>,
): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    await act(handle);
  } catch (error) {
    // The server answers "not found" for a closed workflow too; tell the two apart.
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    const { status } = await handle.describe(); // throws WorkflowNotFoundError when there is no such export
    if (status.name === 'RUNNING') throw error;
    throw new ExportAlreadyClosedError(workflowId, status.name);
  }
}
