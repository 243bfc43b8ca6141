// Specification of startTemporalDevServer, against the real pinned `temporal server start-dev`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { ServerStartError } from '../../local-stack/managed-process';
import { startTemporalDevServer, type TemporalDevServer } from '../../local-stack/temporal-dev-server';
import { acceptsConnections, closesWithin } from './fixtures/accepts-connections';

const CartoAccount = defineSearchAttributeKey('CartoAccount', 'KEYWORD');
const ExportBytes = defineSearchAttributeKey('ExportBytes', 'INT');
const NotRegistered = defineSearchAttributeKey('NotRegistered', 'KEYWORD');
// No worker polls this queue: the workflows below only need to exist on the server.
const taskQueue = 'local-stack-test';

/** Matches a client error whose gRPC cause (where the server's words are) matches `pattern`. */
function serverSaid(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ServiceError, `expected a ServiceError, got ${String(error)}`);
    assert.match(String((error.cause as Error | undefined)?.message), pattern);
    return true;
  };
}

async function connect(server: TemporalDevServer, namespace = 'default'): Promise<Client> {
  const connection = await Connection.connect({ address: server.address });
  return new Client({ connection, namespace });
}

describe('a dev server with a namespace, search attributes, dynamic config and the Web UI', () => {
  let server: TemporalDevServer;
  let client: Client;

  let startupMs: number;

  before(async () => {
    const started = Date.now();
    server = await startTemporalDevServer({
      namespace: 'carto-test',
      searchAttributes: { CartoAccount: 'Keyword', ExportBytes: 'Int' },
      // Workflow IDs longer than 40 characters are refused (request IDs are 36-character UUIDs, so 40 leaves room).
      dynamicConfig: { 'limit.maxIDLength': 40 },
    });
    startupMs = Date.now() - started;
    client = await connect(server);
  });

  after(async () => {
    await client?.connection.close();
    await server?.stop();
  });

  test('listens on 127.0.0.1 and serves the default namespace and the requested one', async (t) => {
    t.diagnostic(`temporal dev server was ready ${startupMs} ms after spawn`);
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(server.namespace, 'carto-test');
    for (const namespace of ['default', 'carto-test']) {
      const described = await client.workflowService.describeNamespace({ namespace });
      assert.equal(described.namespaceInfo?.name, namespace);
    }
  });

  test('serves the Web UI over HTTP on its own port', async () => {
    assert.ok(server.uiUrl);
    assert.match(server.uiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(server.uiUrl).port, server.address.split(':')[1]);
    const response = await fetch(server.uiUrl);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await response.text(), /<html/i);
  });

  test('accepts workflows that set the search attributes registered at start, and finds them by query', async () => {
    const handle = await client.workflow.start('anyWorkflow', {
      taskQueue,
      workflowId: 'sa-registered',
      typedSearchAttributes: [
        { key: CartoAccount, value: 'acme' },
        { key: ExportBytes, value: 1234 },
      ],
    });
    const described = await handle.describe();
    assert.equal(described.typedSearchAttributes.get(CartoAccount), 'acme');
    assert.equal(described.typedSearchAttributes.get(ExportBytes), 1234);

    // Visibility is eventually consistent, even on SQLite.
    let found: string[] = [];
    for (const deadline = Date.now() + 10_000; found.length === 0 && Date.now() < deadline;) {
      found = [];
      for await (const execution of client.workflow.list({
        query: `CartoAccount = 'acme' AND ExportBytes > 1000`,
      })) {
        found.push(execution.workflowId);
      }
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(found, ['sa-registered']);
  });

  test('refuses a search attribute that was not registered at start', async () => {
    await assert.rejects(
      client.workflow.start('anyWorkflow', {
        taskQueue,
        workflowId: 'sa-unregistered',
        typedSearchAttributes: [{ key: NotRegistered, value: 'x' }],
      }),
      serverSaid(/NotRegistered/),
    );
  });

  test('applies the dynamic config given at start', async () => {
    await client.workflow.start('anyWorkflow', { taskQueue, workflowId: 'id-within-the-limit' });
    await assert.rejects(
      client.workflow.start('anyWorkflow', { taskQueue, workflowId: 'x'.repeat(60) }),
      serverSaid(/WorkflowId exceeds maximum allowed length \(60\/40\)/),
    );
  });
});

describe('startTemporalDevServer', () => {
  test('runs headless when uiPort is false', async () => {
    const server = await startTemporalDevServer({ uiPort: false });
    try {
      assert.equal(server.uiUrl, undefined);
      assert.equal(await acceptsConnections(server.address), true);
    } finally {
      await server.stop();
    }
  });

  test('stop() ends the server and frees its port; kill() ends it at once', async () => {
    for (const end of ['stop', 'kill'] as const) {
      const server = await startTemporalDevServer({ uiPort: false });
      const started = Date.now();
      await server[end]();
      const took = Date.now() - started;
      assert.ok(
        server.process.exitCode !== null || server.process.signalCode !== null,
        `${end}: still running`,
      );
      assert.equal(await acceptsConnections(server.address), false, `${end}: port still open`);
      assert.ok(took < 10_000, `${end} took ${took} ms`);
    }
  });

  test('runs two servers side by side', async () => {
    const [first, second] = await Promise.all([
      startTemporalDevServer({ uiPort: false }),
      startTemporalDevServer({ uiPort: false }),
    ]);
    try {
      assert.notEqual(first.address, second.address);
      for (const server of [first, second]) {
        const client = await connect(server);
        await client.workflowService.describeNamespace({ namespace: 'default' });
        await client.connection.close();
      }
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  for (const end of ['stop', 'kill'] as const) {
    test(`keeps workflows in the db file across a ${end} and restart on the same port`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'carto-ferry-temporal-test-'));
      const dbFilename = path.join(dir, 'nested', 'temporal.sqlite');
      const first = await startTemporalDevServer({ uiPort: false, dbFilename });
      // One connection throughout, as a worker would hold one: the restart must not change the address.
      const client = await connect(first);
      try {
        await client.workflow.start('anyWorkflow', { taskQueue, workflowId: 'survivor' });
        await first[end]();
        assert.equal(await closesWithin(first.address, 5_000), true);

        const port = Number(first.address.split(':')[1]);
        const second = await startTemporalDevServer({ uiPort: false, dbFilename, port });
        try {
          assert.equal(second.address, first.address);
          const described = await client.workflow.getHandle('survivor').describe();
          assert.equal(described.status.name, 'RUNNING');
          await assert.rejects(client.workflow.getHandle('never-started').describe(), WorkflowNotFoundError);
        } finally {
          await second.stop();
        }
      } finally {
        await client.connection.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('registers the search attributes on a db file that was created without them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carto-ferry-temporal-test-'));
    const dbFilename = path.join(dir, 'temporal.sqlite');
    try {
      // The CLI's --search-attribute flags only act on a new db file: a file from an earlier start keeps lacking them.
      const first = await startTemporalDevServer({ uiPort: false, dbFilename });
      await first.stop();
      const second = await startTemporalDevServer({
        uiPort: false,
        dbFilename,
        searchAttributes: { CartoLater: 'Keyword' },
      });
      const connection = await Connection.connect({ address: second.address });
      try {
        const listed = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        assert.ok('CartoLater' in (listed.customAttributes ?? {}), 'registered on the existing db file');
      } finally {
        await connection.close();
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("reports the server's own reason when it cannot start", async () => {
    // Holds the port; hangs up on whoever connects, so no probe connection keeps this test process alive.
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(startTemporalDevServer({ port, uiPort: false }), (error: unknown) => {
        assert.ok(error instanceof ServerStartError);
        assert.equal(error.reason, 'exited');
        assert.match(error.message, /^temporal dev server exited \(code 1\) before it was ready/);
        assert.match(error.message, new RegExp(`can't set frontend port ${port}: .*address already in use`));
        return true;
      });
    } finally {
      blocker.close();
    }
  });

  test('rejects a dynamic config value that cannot be sent as JSON, before starting anything', async () => {
    await assert.rejects(
      startTemporalDevServer({ dynamicConfig: { 'limit.maxIDLength': undefined } }),
      /dynamicConfig\['limit.maxIDLength'\] is not JSON-serializable/,
    );
  });
});
