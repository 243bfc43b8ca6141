// The real stack for integration tests: Temporal dev server, SeaweedFS S3, the CARTO emulator and a carto-ferry worker.
import { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createS3Client } from '../../activities/s3-client';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../carto-emulator/emulator';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/config';
import { createCartoFerryWorker } from '../../worker/create-worker';
import { startSeaweedS3 } from '../../local-stack/seaweedfs';
import { startTemporalDevServer } from '../../local-stack/temporal-dev-server';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes';
import { installQuietRuntime } from './quiet-runtime';

export const S3_CREDENTIALS = {
  accessKeyId: 'ferry-test-key',
  secretAccessKey: 'ferry-test-secret-do-not-leak',
};
export const BUCKET = 'carto-exports';

export interface RealStack {
  temporalAddress: string;
  client: Client;
  s3: S3Client;
  s3Endpoint: string;
  emulator: RunningEmulator;
  /** Environment a worker process (or the CLI) needs to reach this stack. */
  workerEnv: Record<string, string>;
  config: WorkerConfig;
  taskQueue: string;
  /** SIGKILLs the Temporal dev server and starts it again on the same port and SQLite file. */
  restartTemporal(downForMs?: number): Promise<void>;
  /** Stops SeaweedFS, waits, and starts it again on the same port and data folder. */
  restartS3(downForMs?: number): Promise<void>;
  /** Starts an in-process worker; returns a function that stops it. */
  startWorker(): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

export async function startRealStack(
  options: {
    emulator?: EmulatorOptions;
    taskQueue?: string;
    dynamicConfig?: Record<string, unknown>;
    /** Worker settings to add or override, e.g. a short CARTO_HTTP_TIMEOUT_MS. */
    workerEnv?: Record<string, string>;
    /** Keep Temporal's state in this SQLite file (needed to restart the server). */
    dbFilename?: string;
  } = {},
): Promise<RealStack> {
  installQuietRuntime();
  const stoppers: (() => Promise<void>)[] = [];
  try {
    const temporalOptions = {
      uiPort: false as const,
      dynamicConfig: options.dynamicConfig,
      searchAttributes: { ...SEARCH_ATTRIBUTES },
      dbFilename: options.dbFilename,
    };
    let temporal = await startTemporalDevServer(temporalOptions);
    stoppers.push(() => temporal.stop());
    let seaweed = await startSeaweedS3({ buckets: [BUCKET], ...S3_CREDENTIALS });
    stoppers.push(() => seaweed.stop());
    const emulator = await startEmulator({ exportDuration: 1500, importDuration: 800, ...options.emulator });
    stoppers.push(() => emulator.close());

    const taskQueue = options.taskQueue ?? 'carto-export-test';
    const workerEnv: Record<string, string> = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      CARTO_FERRY_TASK_QUEUE: taskQueue,
      S3_ENDPOINT: seaweed.endpoint,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
      CARTO_FERRY_BUCKET: BUCKET,
      // Small parts, so even test-sized files go through multipart upload and its ETag check.
      CARTO_FERRY_PART_SIZE_MIB: '5',
      CARTO_ACCOUNTS: JSON.stringify({
        demo: { baseUrl: emulator.accountUrl('demo'), apiKey: 'demo-key' },
        target: { baseUrl: emulator.accountUrl('target'), apiKey: 'target-key' },
        'wrong-key': { baseUrl: emulator.accountUrl('demo'), apiKey: 'not-the-key' },
      }),
      ...options.workerEnv,
    };
    const config = loadWorkerConfig(workerEnv);
    const connection = await Connection.connect({ address: temporal.address });
    stoppers.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const s3 = createS3Client(config.s3);
    stoppers.push(async () => s3.destroy());

    const startWorker = async () => {
      const nativeConnection = await NativeConnection.connect({ address: temporal.address });
      const { worker, close } = await createCartoFerryWorker(config, {
        connection: nativeConnection,
      });
      const running = worker.run();
      // Safe to call more than once: a test that stops its worker early and an after() hook may both call it.
      let stopped: Promise<void> | undefined;
      return () => {
        stopped ??= (async () => {
          stopWorker(worker);
          await running;
          await close();
          await nativeConnection.close();
        })();
        return stopped;
      };
    };

    return {
      temporalAddress: temporal.address,
      client,
      s3,
      s3Endpoint: seaweed.endpoint,
      emulator,
      workerEnv,
      config,
      taskQueue,
      startWorker,
      async restartTemporal(downForMs = 0) {
        const port = Number(temporal.address.split(':')[1]);
        await temporal.kill();
        await new Promise((resolve) => setTimeout(resolve, downForMs));
        temporal = await startTemporalDevServer({ ...temporalOptions, port });
      },
      async restartS3(downForMs = 0) {
        const s3Port = Number(new URL(seaweed.endpoint).port);
        const dir = seaweed.dir;
        await seaweed.stop();
        await new Promise((resolve) => setTimeout(resolve, downForMs));
        seaweed = await startSeaweedS3({ s3Port, dir, buckets: [BUCKET], ...S3_CREDENTIALS });
      },
      async stop() {
        for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

function stopWorker(worker: Worker): void {
  if (worker.getState() === 'RUNNING') worker.shutdown();
}
