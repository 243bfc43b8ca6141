// Wires a Temporal worker from a validated configuration: activities with their clients, the workflow bundle, the task queue.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { copyProgressSignal } from '../contract/export-messages';
import { createActivities } from '../activities';
import { CartoAccounts } from '../activities/carto-accounts';
import { createS3Client } from '../activities/s3-client';
import type { WorkerConfig } from './config';
import { WORKFLOWS_PATH, workflowBundlePath } from './workflow-bundle';

export async function createCartoFerryWorker(
  config: WorkerConfig,
  options: { connection?: NativeConnection; workerOptions?: Partial<WorkerOptions> } = {},
): Promise<{ worker: Worker; connection: NativeConnection; close: () => Promise<void> }> {
  const connection =
    options.connection ?? (await NativeConnection.connect({ address: config.temporal.address }));
  // Activities signal copy progress to their workflow through an ordinary client.
  const client = new Client({
    connection: await Connection.connect({ address: config.temporal.address }),
    namespace: config.temporal.namespace,
  });
  const activities = createActivities({
    sendCopyProgress: (workflowId, update) =>
      client.workflow.getHandle(workflowId).signal(copyProgressSignal, update),
    accounts: new CartoAccounts(config.accounts, { timeoutMs: config.cartoTimeoutMs }),
    s3: createS3Client(config.s3),
    defaultBucket: config.defaultBucket,
    copy: config.copy,
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(await workflowCode()),
    activities,
    // Heartbeats carry cancellation to a running copy; throttling them to 2 s keeps cancellation prompt.
    maxHeartbeatThrottleInterval: '2s',
    ...options.workerOptions,
  });
  const close = async () => {
    await client.connection.close();
    if (options.connection === undefined) await connection.close();
  };
  return { worker, connection, close };
}

/** The cached bundle; if it cannot be built (say, a read-only install), bundling in-process still works, at a memory cost. */
async function workflowCode(): Promise<Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>> {
  try {
    return { workflowBundle: { codePath: await workflowBundlePath() } };
  } catch (error) {
    console.error(
      `carto-ferry worker: could not build the cached workflow bundle (${error instanceof Error ? error.message : String(error)}); bundling in-process`,
    );
    return { workflowsPath: WORKFLOWS_PATH };
  }
}
