// `npm run bench`: one large export through a separate worker process on the real stack; reports throughput and peak RSS.
// With `--kill-at 0.5` the worker is SIGKILLed halfway through the copy and a new one resumes it: reports what the
// resumed copy re-read from the source and how long recovery took.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { lastCopyHeartbeat } from '../client/copy-heartbeat';
import { Command } from 'commander';
import { startExport } from '../client/export-client';
import { parseSize } from '../carto-emulator/cli-values';
import { startEmulator } from '../carto-emulator/emulator';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { startSeaweedS3 } from '../local-stack/seaweedfs';
import { startTemporalDevServer } from '../local-stack/temporal-dev-server';

const REPO = path.resolve(__dirname, '..');
const MiB = 1024 * 1024;

interface Options {
  size: string;
  partSize: string;
  queueSize: string;
  killAt?: string;
}

/** Resident set size of a process now (VmRSS) or at its peak so far (VmHWM), from /proc (Linux). */
function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

/** Samples a process's RSS every 100 ms until stopped; returns the highest sample. */
function sampleRss(pid: number): () => number {
  let highest = 0;
  const timer = setInterval(() => {
    highest = Math.max(highest, rssMiB(pid, 'VmRSS'));
  }, 100);
  return () => {
    clearInterval(timer);
    return highest;
  };
}

async function main(): Promise<void> {
  const options = new Command('bench')
    .option('--size <size>', 'export file size', '1GiB')
    .option('--part-size <MiB>', 'multipart part size in MiB', '16')
    .option('--queue-size <n>', 'parts uploaded in parallel', '4')
    .option(
      '--kill-at <fraction>',
      'SIGKILL the worker once this share of the file is copied, then start another',
    )
    .parse()
    .opts<Options>();
  const size = parseSize(options.size);

  const temporal = await startTemporalDevServer({
    uiPort: false,
    searchAttributes: { ...SEARCH_ATTRIBUTES },
  });
  const s3 = await startSeaweedS3({
    buckets: ['bench'],
    accessKeyId: 'bench',
    secretAccessKey: 'bench-secret',
  });
  const emulator = await startEmulator({ exportSize: size, exportDuration: 500 });
  const map = emulator.maps('demo').find((m) => m.type === 'derived' && m.privacy === 'PUBLIC');
  if (!map) throw new Error('no public map');

  // A separate worker process, so its peak RSS is the worker's alone (not this script's, nor the emulator's).
  const startWorker = () =>
    spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: REPO,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporal.address,
        CARTO_FERRY_TASK_QUEUE: 'bench',
        S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench-secret',
        CARTO_FERRY_BUCKET: 'bench',
        CARTO_FERRY_PART_SIZE_MIB: options.partSize,
        CARTO_FERRY_UPLOAD_QUEUE_SIZE: options.queueSize,
        CARTO_FERRY_METRICS_ADDRESS: 'off',
        CARTO_FERRY_LOG_FORMAT: 'text',
        CARTO_FERRY_LOG_LEVEL: 'WARN',
        CARTO_ACCOUNTS: JSON.stringify({
          demo: { baseUrl: emulator.accountUrl('demo'), apiKey: 'demo-key' },
        }),
      },
    });
  let worker = startWorker();
  try {
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    await waitForWorkerReady();
    const idleRss = rssMiB(worker.pid as number, 'VmRSS');
    const stopSampling = sampleRss(worker.pid as number);
    const started = await startExport(
      client,
      {
        source: { account: 'demo', visualizationId: map.id },
        polling: { initialInterval: 250, maxInterval: 1000 },
      },
      { taskQueue: 'bench' },
    );
    let resume: Record<string, number> | undefined;
    if (options.killAt !== undefined) {
      const killAt = Number(options.killAt);
      if (!(killAt > 0 && killAt < 1))
        throw new Error('--kill-at: give a fraction between 0 and 1, e.g. 0.5');
      const copied = await waitForCopiedBytes(started.handle, killAt * size);
      stopSampling();
      const killed = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGKILL');
      await killed;
      const killedAt = Date.now();
      worker = startWorker();
      await started.handle.result();
      const downloads = emulator.downloads();
      const read = downloads.reduce((sum, d) => sum + d.bytesSent, 0);
      resume = {
        killedAtCopiedMiB: +(copied / MiB).toFixed(1),
        resumedFromMiB: +((downloads.at(-1)?.rangeStart ?? 0) / MiB).toFixed(1),
        sourceMiBReadInTotal: +(read / MiB).toFixed(1),
        sourceMiBReadTwice: +((read - size) / MiB).toFixed(1),
        secondsFromKillToLanded: +((Date.now() - killedAt) / 1000).toFixed(1),
      };
    }
    const result = await started.handle.result();
    const history = await started.handle.fetchHistory();
    const copySeconds = activitySeconds(history, 'copyExportToS3');
    const peakDuringExport = resume ? 0 : stopSampling();
    console.log(
      JSON.stringify(
        {
          bench: 'large-copy',
          sizeMiB: +(result.object.size / MiB).toFixed(1),
          partSizeMiB: Number(options.partSize),
          queueSize: Number(options.queueSize),
          ...(resume
            ? { resume }
            : {
                copySeconds: +copySeconds.toFixed(2),
                throughputMiBps: +(result.object.size / MiB / copySeconds).toFixed(1),
                workerRssBeforeMiB: +idleRss.toFixed(0),
                workerPeakRssDuringExportMiB: +peakDuringExport.toFixed(0),
                workerPeakRssEverMiB: +rssMiB(worker.pid as number, 'VmHWM').toFixed(0),
              }),
        },
        null,
        2,
      ),
    );
    await connection.close();
  } finally {
    worker.kill('SIGTERM');
    await emulator.close();
    await s3.stop();
    await temporal.stop();
  }
}

/** Waits until the running copy's heartbeat (as the server holds it) reports at least `bytes` copied. */
async function waitForCopiedBytes(handle: WorkflowHandle, bytes: number): Promise<number> {
  for (;;) {
    const details = await lastCopyHeartbeat(handle);
    if (details && details.bytesCopied >= bytes) return details.bytesCopied;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Lets the worker connect (and, the first time for these sources, have its workflow bundle built) and settle. */
async function waitForWorkerReady(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 8000));
}

/** Seconds between an activity's scheduling and its completion, from the workflow history. */
function activitySeconds(
  history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>,
  activityType: string,
): number {
  const events = history.events ?? [];
  const scheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType,
  );
  const completed = events.find(
    (e) =>
      e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString(),
  );
  const seconds = (e: typeof scheduled) =>
    Number(e?.eventTime?.seconds ?? 0) + (e?.eventTime?.nanos ?? 0) / 1e9;
  return seconds(completed) - seconds(scheduled);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
