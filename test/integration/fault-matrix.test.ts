// Many exports against a CARTO that fails on every endpoint at a high rate: each lands byte-identical or fails typed.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FaultRule } from '../../carto-emulator/faults';
import { startExport } from '../../client/export-client';
import { FailureType } from '../../contract/export-visualization';
import { sha256 } from '../support/export-checks';
import { BUCKET, startRealStack, type RealStack } from '../support/real-stack';

const MiB = 1024 * 1024;
let stack: RealStack;
let stopWorker: () => Promise<void>;

// Timeouts are short so that `slow` and `stallDownload` faults really pass them.
const CARTO_TIMEOUT_MS = 1500;

const MATRIX: FaultRule[] = [
  { endpoint: 'export.create', fault: 'status5xx', rate: 0.25 },
  { endpoint: 'export.create', fault: 'rateLimit', retryAfter: 1, rate: 0.15 },
  { endpoint: 'export.create', fault: 'reset', rate: 0.1 },
  { endpoint: 'export.show', fault: 'status5xx', status: 503, rate: 0.25 },
  { endpoint: 'export.show', fault: 'malformedJson', rate: 0.1 },
  { endpoint: 'export.show', fault: 'rateLimitNoRetryAfter', rate: 0.1 },
  { endpoint: 'export.show', fault: 'slow', delay: 2500, rate: 0.05 },
  // Each failed download costs a copy retry with backoff (5 s, 10 s, ...), so the download rates add up to 0.3.
  { endpoint: 'export.download', fault: 'truncate', rate: 0.1 },
  { endpoint: 'export.download', fault: 'reset', rate: 0.05 },
  { endpoint: 'export.download', fault: 'status5xx', rate: 0.05 },
  { endpoint: 'export.download', fault: 'stallDownload', fraction: 0.3, pause: 4000, rate: 0.05 },
  { endpoint: 'export.download', fault: 'expireUrl', rate: 0.05 },
  { endpoint: 'import.create', fault: 'status5xx', rate: 0.2 },
  { endpoint: 'import.create', fault: 'rateLimit', retryAfter: 1, rate: 0.2 },
  { endpoint: 'import.show', fault: 'status5xx', rate: 0.25 },
  { endpoint: 'import.show', fault: 'malformedJson', rate: 0.1 },
];

/** Failure types an export may end with under these faults; anything else (or a hang) is a bug. */
const ACCEPTABLE_FAILURES = new Set<string>([FailureType.ExportFailed, FailureType.ExportFileUnavailable]);

before(async () => {
  stack = await startRealStack({
    emulator: { exportSize: 7 * MiB, exportDuration: 600, importDuration: 1500, maps: 4, seed: 7 },
    workerEnv: { CARTO_HTTP_TIMEOUT_MS: String(CARTO_TIMEOUT_MS) },
  });
  stopWorker = await stack.startWorker();
});
after(async () => {
  await stopWorker?.();
  await stack?.stop();
});

describe('fault matrix', () => {
  test('every export lands byte-identical in S3 or fails with a typed error, and none hangs', async () => {
    const maps = stack.emulator.maps('demo').filter((m) => m.type === 'derived' && m.privacy === 'PUBLIC');
    assert.ok(maps.length >= 2);
    const doomed = maps[0].id;
    stack.emulator.faults.set([
      ...MATRIX,
      { endpoint: 'export.create', fault: 'exportFails', visualizationId: doomed },
    ]);

    const runs = Array.from({ length: 8 }, (_, i) => {
      const map = maps[i % maps.length];
      const withImport = i % 2 === 1;
      return startExport(
        stack.client,
        {
          source: { account: 'demo', visualizationId: map.id },
          destination: { key: `matrix/${i}.carto` },
          ...(withImport ? { import: { account: 'target' } } : {}),
          polling: { initialInterval: 200, maxInterval: 1000, timeout: '3 minutes' },
        },
        { workflowId: `matrix-${i}`, taskQueue: stack.taskQueue },
      ).then(async ({ handle }) => {
        try {
          return { i, map: map.id, withImport, result: await handle.result() };
        } catch (error) {
          return { i, map: map.id, withImport, error };
        }
      });
    });
    const outcomes = await Promise.all(runs);

    let landed = 0;
    for (const outcome of outcomes) {
      if ('result' in outcome && outcome.result) {
        const served = stack.emulator.exportFilePath(outcome.result.exportId);
        assert.ok(served, `export ${outcome.i} has a served file`);
        const object = await stack.s3.send(
          new GetObjectCommand({ Bucket: BUCKET, Key: outcome.result.object.key }),
        );
        assert.equal(
          await sha256(object.Body as Readable),
          await sha256(createReadStream(served)),
          `export ${outcome.i} is intact`,
        );
        if (outcome.withImport) assert.equal(outcome.result.import?.state, 'complete');
        landed += 1;
      } else {
        const error = (outcome as { error: unknown }).error;
        assert.ok(error instanceof WorkflowFailedError, `export ${outcome.i}: ${String(error)}`);
        const cause = error.cause;
        assert.ok(cause instanceof ApplicationFailure, `export ${outcome.i}: ${String(cause)}`);
        assert.ok(
          ACCEPTABLE_FAILURES.has(cause.type ?? ''),
          `export ${outcome.i} failed with ${cause.type}: ${cause.message}`,
        );
        if (cause.type === FailureType.ExportFailed) assert.equal(outcome.map, doomed);
      }
    }
    // The doomed map fails; every other export must make it through the faults.
    const expectedLanded = outcomes.filter((o) => o.map !== doomed).length;
    assert.equal(landed, expectedLanded, `landed ${landed} of ${expectedLanded}`);

    const stats = stack.emulator.faults.stats();
    for (const endpoint of [
      'export.create',
      'export.show',
      'export.download',
      'import.create',
      'import.show',
    ] as const) {
      const fired = Object.values(stats[endpoint] ?? {}).reduce((a, b) => a + (b ?? 0), 0);
      assert.ok(fired > 0, `no fault fired on ${endpoint}; stats ${JSON.stringify(stats)}`);
    }
    const uploads = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual(uploads.Uploads ?? [], [], 'no multipart upload left behind');
  });

  test('honours Retry-After: the retried poll waits as long as CARTO asked', async () => {
    const map = stack.emulator.maps('demo').filter((m) => m.type === 'derived' && m.privacy === 'PUBLIC')[1];
    stack.emulator.faults.set([{ endpoint: 'export.show', fault: 'rateLimit', retryAfter: 4, times: 1 }]);
    const { handle } = await startExport(
      stack.client,
      {
        source: { account: 'demo', visualizationId: map.id },
        destination: { key: 'retry-after.carto' },
        polling: { initialInterval: 100 },
      },
      { workflowId: 'retry-after', taskQueue: stack.taskQueue },
    );
    await handle.result();
    const events = (await handle.fetchHistory()).events ?? [];
    const seconds = (e: (typeof events)[number] | undefined) =>
      Number(e?.eventTime?.seconds ?? 0) + (e?.eventTime?.nanos ?? 0) / 1e9;
    const firstPoll = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkExport',
    );
    const started = events.find(
      (e) =>
        e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === firstPoll?.eventId?.toString(),
    );
    const completed = events.find(
      (e) =>
        e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() ===
        firstPoll?.eventId?.toString(),
    );
    assert.equal(started?.activityTaskStartedEventAttributes?.attempt, 2, 'the first poll was retried once');
    const waited = seconds(completed) - seconds(firstPoll);
    assert.ok(waited >= 4 && waited < 8, `first poll took ${waited.toFixed(2)} s; Retry-After asked for 4 s`);
  });
});
