// `npm run worker`: validates the environment, connects to Temporal and runs the carto-ferry worker until a signal stops it.
import { ConfigError, loadWorkerConfig } from './config';
import { createCartoFerryWorker } from './create-worker';

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
  const { worker, close } = await createCartoFerryWorker(config);
  console.error(
    `carto-ferry worker: task queue '${config.temporal.taskQueue}' on ${config.temporal.address} (namespace ${config.temporal.namespace}), accounts: ${Object.keys(config.accounts).join(', ')}`,
  );
  try {
    await worker.run();
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
