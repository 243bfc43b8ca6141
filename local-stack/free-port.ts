// Free TCP ports on 127.0.0.1 for servers started by the tests, the demo and the benchmarks.
import net from 'node:net';
import { ServerStartError } from './managed-process';

const HOST = '127.0.0.1';

/** One free port, chosen by the OS. */
export async function getFreePort(): Promise<number> {
  const [port] = await getFreePorts(1);
  return port;
}

/** `count` distinct free ports, chosen by the OS. All are held open until the last is found, so none repeats. */
export async function getFreePorts(count: number): Promise<number[]> {
  const held: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) held.push(await listen(0));
    return held.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(held.map(close));
  }
}

/**
 * `count` distinct ports P such that both P and P + offset are free: for servers (SeaweedFS) that put a component's
 * gRPC listener at its HTTP port + 10000. P is drawn from 10000–(32767 - offset) so that P + offset stays below
 * Linux's ephemeral range (32768+), where the OS hands out ports to other processes' connections and `listen(0)`.
 */
export async function getFreePortPairs(count: number, offset: number): Promise<number[]> {
  const low = 10000;
  const high = 32767 - offset;
  if (high <= low) throw new RangeError(`port offset ${offset} leaves no room below 32768`);
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < count; attempt++) {
      if (attempt >= 200)
        throw new Error(`no ${count} free port pairs (offset ${offset}) found in ${low}–${high}`);
      const port = low + Math.floor(Math.random() * (high - low));
      if (ports.includes(port) || ports.includes(port + offset) || ports.includes(port - offset)) continue;
      const pair = await Promise.allSettled([listen(port), listen(port + offset)]);
      const bound = pair.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      held.push(...bound);
      if (bound.length === 2) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map(close));
  }
}

/**
 * Runs `start` again, up to `attempts` times in all, while it fails because the server lost the race for a port:
 * a port found free is only free until someone else binds it, and another test run may be picking at the same time.
 * A clash on a port the caller fixed just fails again, quickly.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      // Temporal reports the failed bind; weed checks its ports first and says "Port allocation failed".
      const clash =
        error instanceof ServerStartError &&
        /address already in use|port allocation failed/i.test(error.outputTail);
      if (!clash || attempt >= attempts) throw error;
    }
  }
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host: HOST, exclusive: true }, () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Whether something accepts TCP connections at host:port right now (a one-second attempt). */
export function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const settle = (connected: boolean) => {
      socket.destroy();
      resolve(connected);
    };
    socket.setTimeout(1_000, () => settle(false));
    socket.once('connect', () => settle(true));
    socket.once('error', () => settle(false));
  });
}
