// `npm run worker`: validates the environment, connects to Temporal and runs the carto-ferry worker until a signal stops it.
import { ConfigError, loadWorkerConfig } from './config';
import { createCartoFerryWorker } from './create-worker';
import { installWorkerRuntime } from './runtime';

async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  installWorkerRuntime(config.observability);
  const { worker, close } = await createCartoFerryWorker(config);
  console.error(
    `carto-ferry worker: metrics ${config.observability.metricsAddress ? `http://${config.observability.metricsAddress}/metrics` : 'off'}; task queue '${config.temporal.taskQueue}' on ${config.temporal.address} (namespace ${config.temporal.namespace}), accounts: ${Object.keys(config.accounts).join(', ')}`,
  );
  try {
    await worker.run();
  } finally {
    await close();
  }
}

// The native runtime (metrics server, core threads) keeps the process up; once the worker has drained, leave.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
