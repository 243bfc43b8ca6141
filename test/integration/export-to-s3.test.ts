// End to end on real servers: Temporal dev server, SeaweedFS, the CARTO emulator over HTTP, an in-process worker.
import assert from 'node:assert/strict';
import { createReadStream, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Readable } from 'node:stream';
import { startExport } from '../../client/export-client';
import {
  FailureType,
  WORKFLOW_TYPE,
  type ExportVisualizationInput,
} from '../../contract/export-visualization';
import { publicMapId, sha256 } from '../support/export-checks';
import { historyText } from '../support/history-text';
import { BUCKET, S3_CREDENTIALS, startRealStack, type RealStack } from '../support/real-stack';

const MiB = 1024 * 1024;
let stack: RealStack;
let stopWorker: () => Promise<void>;

before(async () => {
  stack = await startRealStack({ emulator: { exportSize: 12 * MiB } });
  stopWorker = await stack.startWorker();
});
after(async () => {
  await stopWorker?.();
  await stack?.stop();
});

function publicMap() {
  return { id: publicMapId(stack.emulator) };
}

async function run(input: ExportVisualizationInput, workflowId: string) {
  const started = await startExport(stack.client, input, { workflowId, taskQueue: stack.taskQueue });
  return started.handle.result();
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => assert.fail('expected the export to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError);
  assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
  return error.cause;
}

describe('export into S3 on the real stack', () => {
  test('lands the export in S3 byte for byte and imports it into another account by URL', async () => {
    const map = publicMap();
    const result = await run(
      {
        source: { account: 'demo', visualizationId: map.id },
        import: { account: 'target' },
        polling: { initialInterval: 200 },
      },
      'e2e-url-import',
    );
    const source = stack.emulator.exportFilePath(result.exportId);
    assert.ok(source, 'emulator knows the served file');
    const expected = await sha256(createReadStream(source));
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: result.object.key }));
    assert.equal(
      await sha256(object.Body as Readable),
      expected,
      'S3 object is byte-identical to the served file',
    );
    assert.equal(result.object.size, statSync(source).size);
    assert.equal(result.object.checksum, `sha256:${expected}`);
    assert.equal(result.object.uri, `s3://${BUCKET}/${result.object.key}`);
    assert.ok(result.polls >= 1);

    assert.ok(result.import, 'import result present');
    assert.equal(result.import.state, 'complete');
    const imported = stack.emulator.importedMaps('target').map((m) => m.id);
    assert.ok(
      result.import.visualizationId && imported.includes(result.import.visualizationId),
      'new map exists in target',
    );
    assert.ok(result.import.tablesCreated >= 1);
  });

  test('imports by streaming the file from S3 when asked to upload', async () => {
    const map = publicMap();
    const result = await run(
      {
        source: { account: 'demo', visualizationId: map.id },
        destination: { key: 'uploads/via-upload.carto' },
        import: { account: 'target', via: 'upload' },
        polling: { initialInterval: 200 },
      },
      'e2e-upload-import',
    );
    assert.equal(result.object.key, 'uploads/via-upload.carto');
    assert.equal(result.import?.state, 'complete');
    const head = await stack.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/via-upload.carto' }),
    );
    assert.equal(head.ContentLength, result.object.size);
  });

  test('attaches to the running export instead of starting a duplicate', async () => {
    const map = publicMap();
    const input: ExportVisualizationInput = {
      source: { account: 'demo', visualizationId: map.id },
      polling: { initialInterval: 200 },
    };
    const first = await startExport(stack.client, input, { taskQueue: stack.taskQueue });
    const second = await startExport(stack.client, input, { taskQueue: stack.taskQueue });
    assert.equal(first.workflowId, `carto-export/demo/${map.id}`);
    assert.equal(first.attached, false);
    assert.equal(second.attached, true);
    assert.equal(second.runId, first.runId);
    await first.handle.result();
  });

  test('fails fast with typed errors for unknown maps, accounts and refused access', async () => {
    const missing = await failureOf(
      run(
        { source: { account: 'demo', visualizationId: '00000000-0000-4000-8000-000000000000' } },
        'e2e-missing-map',
      ),
    );
    assert.equal(missing.type, FailureType.VisualizationNotFound);

    const unknown = await failureOf(
      run({ source: { account: 'nobody', visualizationId: publicMap().id } }, 'e2e-unknown-account'),
    );
    assert.equal(unknown.type, FailureType.UnknownAccount);
    assert.match(unknown.message, /nobody/);

    const privateMap = stack.emulator
      .maps('demo')
      .find((m) => m.type === 'derived' && m.privacy === 'PRIVATE');
    assert.ok(privateMap);
    // A wrong key makes CARTO treat the request as anonymous: private maps answer 403.
    const denied = await failureOf(
      run({ source: { account: 'wrong-key', visualizationId: privateMap.id } }, 'e2e-denied'),
    );
    assert.equal(denied.type, FailureType.AccessDenied);
    assert.doesNotMatch(denied.message, /not-the-key/);
  });

  test('leaves no multipart upload behind', async () => {
    const uploads = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual(uploads.Uploads ?? [], []);
  });

  test('keeps API keys, S3 secrets and signed URLs out of workflow history', async () => {
    const secrets = [
      'demo-key',
      'target-key',
      'not-the-key',
      S3_CREDENTIALS.secretAccessKey,
      'X-Amz-Signature',
      'Signature=',
    ];
    let checked = 0;
    for await (const execution of stack.client.workflow.list({
      query: `WorkflowType = '${WORKFLOW_TYPE}'`,
    })) {
      const history = await stack.client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .fetchHistory();
      const text = historyText(history);
      assert.ok(text.includes('visualizationId'), 'payloads are decoded');
      for (const secret of secrets)
        assert.ok(!text.includes(secret), `${secret} found in history of ${execution.workflowId}`);
      checked += 1;
    }
    assert.ok(checked >= 5, `checked ${checked} histories`);
  });
});
