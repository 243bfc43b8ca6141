// Specification of the free-port helpers the local servers are started with, and of the retry when a port is lost.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { getFreePortPairs, getFreePorts, retryOnPortClash } from '../../local-stack/free-port';
import { ServerStartError } from '../../local-stack/managed-process';

function bind(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

async function bindAll(ports: number[]): Promise<void> {
  const servers = await Promise.all(ports.map(bind));
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
}

test('getFreePorts returns distinct ports that can all be bound at once', async () => {
  const ports = await getFreePorts(6);
  assert.equal(new Set(ports).size, 6);
  await bindAll(ports);
});

test('getFreePortPairs returns ports whose +offset twins are free too, below the ephemeral range', async () => {
  const ports = await getFreePortPairs(5, 10_000);
  assert.equal(new Set([...ports, ...ports.map((port) => port + 10_000)]).size, 10);
  for (const port of ports) assert.ok(port >= 10_000 && port + 10_000 < 32_768, `port ${port}`);
  await bindAll([...ports, ...ports.map((port) => port + 10_000)]);
});

test('getFreePortPairs refuses an offset that leaves no room', async () => {
  await assert.rejects(getFreePortPairs(1, 30_000), RangeError);
});

function clash(): ServerStartError {
  return new ServerStartError('lost a port', 'a server', 'exited', 'bind: address already in use');
}

test('retryOnPortClash starts again after a port clash, up to the attempt limit', async () => {
  let calls = 0;
  assert.equal(
    await retryOnPortClash(async () => {
      if (++calls < 3) throw clash();
      return 'up';
    }),
    'up',
  );
  assert.equal(calls, 3);

  calls = 0;
  await assert.rejects(
    retryOnPortClash(async () => {
      calls++;
      throw clash();
    }),
    /lost a port/,
  );
  assert.equal(calls, 3);
});

test('retryOnPortClash does not retry other failures', async () => {
  let calls = 0;
  const failure = new ServerStartError(
    'bad flag',
    'a server',
    'exited',
    'Error: invalid search attribute type',
  );
  await assert.rejects(
    retryOnPortClash(async () => {
      calls++;
      throw failure;
    }),
    /bad flag/,
  );
  assert.equal(calls, 1);
});
