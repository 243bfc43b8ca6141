// Wires a Temporal worker from a validated configuration: activities with their clients, the workflow bundle, the task queue.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { CartoAccounts } from '../activities/carto-accounts';
import { createS3Client } from '../activities/s3-client';
import type { WorkerConfig } from './config';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export async function createCartoFerryWorker(
  config: WorkerConfig,
  options: { connection?: NativeConnection; workerOptions?: Partial<WorkerOptions> } = {},
): Promise<{ worker: Worker; connection: NativeConnection; ownsConnection: boolean }> {
  const connection =
    options.connection ?? (await NativeConnection.connect({ address: config.temporal.address }));
  const activities = createActivities({
    accounts: new CartoAccounts(config.accounts, { timeoutMs: config.cartoTimeoutMs }),
    s3: createS3Client(config.s3),
    defaultBucket: config.defaultBucket,
    copy: config.copy,
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
    ...options.workerOptions,
  });
  return { worker, connection, ownsConnection: options.connection === undefined };
}
