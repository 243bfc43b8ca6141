// `npm start`: brings up the embedded stack (Temporal + Web UI, SeaweedFS, CARTO emulator, worker) and runs one demo export.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { startEmulator } from '../carto-emulator/emulator';
import { startExport } from '../client/export-client';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { loadWorkerConfig } from '../worker/config';
import { createCartoFerryWorker } from '../worker/create-worker';
import { startSeaweedS3 } from './seaweedfs';
import { startTemporalDevServer } from './temporal-dev-server';

const REPO = path.resolve(__dirname, '..');
const STATE_DIR = path.join(REPO, '.local-stack');
const BUCKET = 'carto-exports';
// Local-only credentials for the embedded S3; nothing outside this machine accepts them.
const S3_KEYS = { accessKeyId: 'carto-ferry-local', secretAccessKey: 'carto-ferry-local-secret' };

/** The familiar port when it is free (so links in the docs work), else undefined and the server picks one. */
async function preferredPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(port)));
  });
}

async function main(): Promise<void> {
  const once = process.argv.includes('--once');
  const installed = spawnSync(path.join(__dirname, 'install-binaries.sh'), { stdio: 'inherit' });
  if (installed.status !== 0) throw new Error('installing the pinned server binaries failed (see above)');
  mkdirSync(STATE_DIR, { recursive: true });

  Runtime.install({
    // This script stops the worker itself, after the demo, in order.
    shutdownSignals: [],
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });

  step('Starting Temporal dev server with Web UI');
  const temporal = await startTemporalDevServer({
    port: await preferredPort(7233),
    uiPort: (await preferredPort(8233)) ?? undefined,
    dbFilename: path.join(STATE_DIR, 'temporal.sqlite'),
    searchAttributes: { ...SEARCH_ATTRIBUTES },
    logFile: path.join(STATE_DIR, 'temporal.log'),
  });
  step('Starting SeaweedFS S3');
  const s3 = await startSeaweedS3({
    s3Port: await preferredPort(8333),
    dir: path.join(STATE_DIR, 'seaweedfs'),
    buckets: [BUCKET],
    logFile: path.join(STATE_DIR, 'seaweedfs.log'),
    ...S3_KEYS,
  });
  step('Starting the CARTO API emulator');
  const emulator = await startEmulator({
    port: await preferredPort(8089),
    dataDir: path.join(STATE_DIR, 'emulator'),
  });

  const env = {
    TEMPORAL_ADDRESS: temporal.address,
    S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: S3_KEYS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_KEYS.secretAccessKey,
    CARTO_FERRY_BUCKET: BUCKET,
    CARTO_ACCOUNTS: JSON.stringify({
      demo: { baseUrl: emulator.accountUrl('demo'), apiKey: 'demo-key' },
      target: { baseUrl: emulator.accountUrl('target'), apiKey: 'target-key' },
    }),
  };
  step('Starting the carto-ferry worker');
  const { worker, close: closeWorker } = await createCartoFerryWorker(loadWorkerConfig(env));
  const running = worker.run();

  const map = emulator.maps('demo').find((m) => m.type === 'derived' && m.privacy === 'PUBLIC');
  if (!map) throw new Error('the emulator has no public demo map');
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  step(`Exporting map "${map.name}" (${map.id}) of account demo, then importing it into account target`);
  const started = await startExport(client, {
    source: { account: 'demo', visualizationId: map.id },
    import: { account: 'target' },
    polling: { initialInterval: '1s', maxInterval: '5s' },
  });
  const workflowUrl = `${temporal.uiUrl}/namespaces/default/workflows/${encodeURIComponent(started.workflowId)}`;
  console.log(`  workflow ${started.workflowId}\n  watch it: ${workflowUrl}`);

  let exitCode = 0;
  try {
    const result = await started.handle.result();
    console.log('\nDone.');
    console.log(
      `  file landed at ${result.object.uri} (${result.object.size} bytes, ${result.object.checksum})`,
    );
    console.log(
      `  imported into target as map ${result.import?.visualizationId} (${result.import?.tablesCreated} tables)`,
    );
    console.log(`  polls: ${result.polls}, ${result.startedAt} → ${result.completedAt}`);
  } catch (error) {
    exitCode = 1;
    console.error(
      `\nThe demo export failed: ${(error as Error).message}`,
      (error as { cause?: Error }).cause?.message ?? '',
    );
  }
  console.log(`\nTemporal Web UI: ${temporal.uiUrl}   (temporal CLI: --address ${temporal.address})`);
  console.log(`S3 endpoint:     ${s3.endpoint} bucket ${BUCKET} (key ${S3_KEYS.accessKeyId})`);
  console.log(`CARTO emulator:  ${emulator.url} (users demo/demo-key, target/target-key)`);

  const shutdown = async (code: number) => {
    worker.shutdown();
    await running.catch(() => undefined);
    await closeWorker();
    await connection.close();
    await emulator.close();
    await s3.stop();
    await temporal.stop();
    process.exit(code);
  };
  if (once) {
    await shutdown(exitCode);
    return;
  }
  console.log('\nThe stack keeps running for inspection; press Ctrl-C to stop.');
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    void shutdown(exitCode);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function step(message: string): void {
  console.log(`• ${message}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
