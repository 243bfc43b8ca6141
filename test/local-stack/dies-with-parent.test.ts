// Specification that local-stack servers never outlive the Node process that started them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { closesWithin } from './fixtures/accepts-connections';

const FIXTURE = path.join(__dirname, 'fixtures', 'start-server.ts');

interface Started {
  pid: number;
  address: string;
  dir?: string;
}

/** Runs the fixture in its own Node process; resolves with what it printed once its server is up. */
function startInChild(which: 'temporal' | 'weed', mode: 'linger' | 'return') {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, which, mode], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const started = new Promise<Started>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // Only whole lines: a chunk can end mid-line.
      const line = stdout
        .split('\n')
        .slice(0, -1)
        .find((candidate) => candidate.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Started);
    });
    child.once('exit', (code) =>
      reject(new Error(`fixture exited (${code}) before its server started:\n${stderr}`)),
    );
  });
  return { child, started, exited };
}

/** Whether a process is gone; a zombie (killed, not yet reaped by whoever adopted it) counts as gone. */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function goneWithin(pid: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    if (isGone(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return isGone(pid);
}

/** weed's Unix sockets currently in /tmp (it puts them there, named after its ports). */
function weedSockets(): string[] {
  return readdirSync('/tmp')
    .filter((name) => /^seaweedfs-.*\.sock$/.test(name))
    .map((name) => path.join('/tmp', name));
}

function isListenedOn(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: socketPath });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A weed whose parent was SIGKILLed had nobody to remove its data folder or its sockets; do it here so the test
 * leaves nothing behind. Only sockets that appeared during the test and that nobody listens on are removed: other
 * weeds (a demo, another test run) may be running meanwhile.
 */
async function removeWeedLeftovers(dir: string, socketsBefore: Set<string>): Promise<void> {
  for (const socketPath of weedSockets()) {
    if (!socketsBefore.has(socketPath) && !(await isListenedOn(socketPath)))
      rmSync(socketPath, { force: true });
  }
  rmSync(dir, { recursive: true, force: true });
}

for (const which of ['temporal', 'weed'] as const) {
  test(`the ${which} server dies when the Node process that started it is SIGKILLed`, async () => {
    const socketsBefore = new Set(weedSockets());
    const { child, started, exited } = startInChild(which, 'linger');
    const server = await started;
    try {
      assert.equal(isGone(server.pid), false);
      child.kill('SIGKILL');
      await exited;
      assert.equal(await goneWithin(server.pid, 5_000), true, `server pid ${server.pid} outlived its parent`);
      assert.equal(
        await closesWithin(server.address, 5_000),
        true,
        `${server.address} still accepts connections`,
      );
    } finally {
      if (!isGone(server.pid)) process.kill(server.pid, 'SIGKILL');
      if (server.dir) await removeWeedLeftovers(server.dir, socketsBefore);
    }
  });

  test(`a script that starts the ${which} server and forgets it still ends, taking the server along`, async () => {
    const socketsBefore = new Set(weedSockets());
    const { child, started, exited } = startInChild(which, 'return');
    const server = await started;
    try {
      const code = await Promise.race([
        exited,
        new Promise((resolve) => setTimeout(() => resolve('hung'), 10_000)),
      ]);
      assert.equal(code, 0, 'the fixture did not end by itself');
      assert.equal(await goneWithin(server.pid, 5_000), true, `server pid ${server.pid} outlived its parent`);
      assert.equal(
        await closesWithin(server.address, 5_000),
        true,
        `${server.address} still accepts connections`,
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      if (!isGone(server.pid)) process.kill(server.pid, 'SIGKILL');
      if (server.dir) await removeWeedLeftovers(server.dir, socketsBefore);
    }
  });
}
