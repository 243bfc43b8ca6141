// The command lines users type: `npx carto-ferry` and the real `temporal` CLI, against the real stack.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { ExportVisualizationResult } from '../../contract/export-visualization';
import { findBinary } from '../../local-stack/binaries';
import { BUCKET, startRealStack, type RealStack } from '../support/real-stack';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
let stack: RealStack;
let stopWorker: () => Promise<void>;

before(async () => {
  stack = await startRealStack({ emulator: { exportSize: 2 * 1024 * 1024 } });
  stopWorker = await stack.startWorker();
});
after(async () => {
  await stopWorker?.();
  await stack?.stop();
});

function mapId(): string {
  const map = stack.emulator.maps('demo').find((m) => m.type === 'derived' && m.privacy === 'PUBLIC');
  assert.ok(map);
  return map.id;
}

/** Runs `npx carto-ferry ...`; resolves with the exit code instead of throwing. */
async function cartoFerry(...args: string[]) {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    CARTO_FERRY_TASK_QUEUE: stack.taskQueue,
  };
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'carto-ferry', ...args], { cwd: REPO, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function temporal(...args: string[]) {
  const { stdout } = await run(findBinary('temporal'), [...args, '--address', stack.temporalAddress]);
  return stdout;
}

/** `temporal workflow start --type exportVisualization`, as the README shows users. */
async function startByType(workflowId: string, input: unknown): Promise<void> {
  await temporal(
    'workflow',
    'start',
    '--type',
    'exportVisualization',
    '--task-queue',
    stack.taskQueue,
    '--workflow-id',
    workflowId,
    '--input',
    JSON.stringify(input),
  );
}

describe('command lines', () => {
  test('carto-ferry export --wait prints the result and the object is in S3', async () => {
    const { code, stdout, stderr } = await cartoFerry(
      'export',
      '--account',
      'demo',
      '--viz',
      mapId(),
      '--prefix',
      'cli',
      '--poll-interval',
      '200ms',
      '--wait',
    );
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Started export carto-export\/demo\//);
    const result = JSON.parse(stdout) as ExportVisualizationResult;
    assert.match(result.object.key, /^cli\/demo\//);
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: result.object.key }));
    assert.equal(head.ContentLength, result.object.size);

    const status = await cartoFerry('status', `carto-export/demo/${mapId()}`);
    assert.equal(status.code, 0);
    assert.equal(JSON.parse(status.stdout).status, 'COMPLETED');
    const again = await cartoFerry('result', `carto-export/demo/${mapId()}`);
    assert.deepEqual(JSON.parse(again.stdout), result);
  });

  test('carto-ferry rejects bad input with exit code 2, naming the field, and starts nothing', async () => {
    const { code, stderr } = await cartoFerry(
      'export',
      '--account',
      'demo',
      '--viz',
      'not-a-map-id',
      '--workflow-id',
      'cli-bad-input',
    );
    assert.equal(code, 2);
    assert.match(stderr, /source\.visualizationId: must be the map UUID/);
    const missing = await cartoFerry('status', 'cli-bad-input');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found|no such export/i);

    const usage = await cartoFerry('export', '--viz', mapId());
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--account/);
  });

  test('the Temporal CLI starts an export by workflow type and reads its result', async () => {
    const input = {
      source: { account: 'demo', visualizationId: mapId() },
      destination: { key: 'from-temporal-cli.carto' },
      polling: { initialInterval: '200ms' },
    };
    await startByType('temporal-cli-export', input);
    const output = await temporal(
      'workflow',
      'result',
      '--workflow-id',
      'temporal-cli-export',
      '--output',
      'json',
    );
    assert.match(output, /from-temporal-cli\.carto/);
    const head = await stack.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'from-temporal-cli.carto' }),
    );
    assert.ok((head.ContentLength ?? 0) > 0);
  });

  test('the Temporal CLI gets InvalidInput for a bad input, naming the field', async () => {
    await startByType('temporal-cli-bad', { source: { account: 'demo' } });
    const failed = await run(findBinary('temporal'), [
      'workflow',
      'result',
      '--workflow-id',
      'temporal-cli-bad',
      '--output',
      'json',
      '--address',
      stack.temporalAddress,
    ]).then(
      () => assert.fail('expected the workflow to fail'),
      (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
    );
    assert.match(failed, /InvalidInput/);
    assert.match(failed, /source\.visualizationId/);
  });
});
