// `npm run worker` as its own process: config validation, Prometheus metrics and JSON logs that never carry secrets.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startExport } from '../../client/export-client';
import { getFreePort } from '../../local-stack/free-port';
import { S3_CREDENTIALS, startRealStack, type RealStack } from '../support/real-stack';

const REPO = path.resolve(__dirname, '../..');
let stack: RealStack;
let worker: ChildProcess;
let logs = '';
let metricsUrl: string;

function spawnWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

before(async () => {
  stack = await startRealStack({ emulator: { exportSize: 6 * 1024 * 1024 } });
  const port = await getFreePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = spawnWorker({
    ...stack.workerEnv,
    CARTO_FERRY_METRICS_ADDRESS: `127.0.0.1:${port}`,
    CARTO_FERRY_LOG_LEVEL: 'DEBUG',
  });
  worker.stderr?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  worker.stdout?.on('data', (chunk: Buffer) => (logs += chunk.toString()));
});
after(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    const killer = setTimeout(() => worker.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
  await stack?.stop();
});

describe('the worker process', () => {
  test('refuses a bad configuration with exit code 2, naming the variable', async () => {
    const bad = spawnWorker({
      CARTO_ACCOUNTS: '{"demo":{"baseUrl":"https://demo.carto.com"}}',
      S3_FORCE_PATH_STYLE: 'yes',
    });
    let output = '';
    bad.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => bad.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(output, /S3_FORCE_PATH_STYLE: must be true or false/);
    assert.match(output, /CARTO_ACCOUNTS\.demo\.apiKey: is required/);
  });

  test('exports Prometheus metrics and JSON logs, with no secret in them', async () => {
    const map = stack.emulator.maps('demo').find((m) => m.type === 'derived' && m.privacy === 'PUBLIC');
    assert.ok(map);
    const { handle } = await startExport(
      stack.client,
      { source: { account: 'demo', visualizationId: map.id }, polling: { initialInterval: 200 } },
      { workflowId: 'worker-process-export', taskQueue: stack.taskQueue },
    );
    const result = await handle.result();

    let metrics = '';
    for (let attempt = 0; attempt < 20 && !/carto_ferry_exports_finished/.test(metrics); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      metrics = await (await fetch(metricsUrl)).text();
    }
    assert.match(metrics, /carto_ferry_exports_started\w*\{[^}]*account="demo"[^}]*\} 1/);
    assert.match(
      metrics,
      /carto_ferry_exports_finished\w*\{[^}]*account="demo"[^}]*outcome="completed"[^}]*\} 1/,
    );
    const bytes = new RegExp(
      `carto_ferry_bytes_copied\\w*\\{[^}]*account="demo"[^}]*\\} ${result.object.size}\\b`,
    );
    assert.match(metrics, bytes);
    assert.match(metrics, /carto_ferry_export_wait_seconds\w*_bucket/);
    assert.match(metrics, /temporal_workflow_completed/, 'SDK metrics are there too');

    const lines = logs.split('\n').filter((line) => line.startsWith('{'));
    const entries = lines.map(
      (line) => JSON.parse(line) as { level: string; message: string; workflowId?: string },
    );
    const landed = entries.find((e) => e.message === 'Export landed in S3');
    assert.ok(landed, `JSON log lines include the workflow's own log; got ${lines.length} lines`);
    assert.equal(landed.workflowId, 'worker-process-export');
    for (const secret of [
      'demo-key',
      'target-key',
      'not-the-key',
      S3_CREDENTIALS.secretAccessKey,
      'X-Amz-Signature',
    ]) {
      assert.ok(!logs.includes(secret), `${secret} appears in the worker's output`);
    }
  });
});
