// Reads a running copy's last heartbeat as the Temporal server holds it: bytes copied and the resume checkpoint.
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { CopyProgress } from '../activities/copy-checkpoint';

/** `undefined` while no copy is running or it has not heartbeated yet. */
export async function lastCopyHeartbeat(handle: WorkflowHandle): Promise<CopyProgress | undefined> {
  const { raw } = await handle.describe();
  const copy = raw.pendingActivities?.find((activity) => activity.activityType?.name === 'copyExportToS3');
  const payload = copy?.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<CopyProgress>(payload) : undefined;
}
