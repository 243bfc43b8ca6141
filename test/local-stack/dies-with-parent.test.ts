// Specification that local-stack servers never outlive the Node process that started them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
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
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Started);
    });
    child.once('exit', (code) => reject(new Error(`fixture exited (${code}) before its server started:\n${stderr}`)));
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
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (isGone(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return isGone(pid);
}

for (const which of ['temporal', 'weed'] as const) {
  test(`the ${which} server dies when the Node process that started it is SIGKILLed`, async () => {
    const { child, started, exited } = startInChild(which, 'linger');
    const server = await started;
    try {
      assert.equal(isGone(server.pid), false);
      child.kill('SIGKILL');
      await exited;
      assert.equal(await goneWithin(server.pid, 5_000), true, `server pid ${server.pid} outlived its parent`);
      assert.equal(await closesWithin(server.address, 5_000), true, `${server.address} still accepts connections`);
    } finally {
      if (!isGone(server.pid)) process.kill(server.pid, 'SIGKILL');
      if (server.dir) rmSync(server.dir, { recursive: true, force: true });
    }
  });

  test(`a script that starts the ${which} server and forgets it still ends, taking the server along`, async () => {
    const { started, exited } = startInChild(which, 'return');
    const server = await started;
    try {
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('hung'), 10_000))]);
      assert.equal(code, 0, 'the fixture did not end by itself');
      assert.equal(await goneWithin(server.pid, 5_000), true, `server pid ${server.pid} outlived its parent`);
      assert.equal(await closesWithin(server.address, 5_000), true, `${server.address} still accepts connections`);
    } finally {
      if (!isGone(server.pid)) process.kill(server.pid, 'SIGKILL');
      if (server.dir) rmSync(server.dir, { recursive: true, force: true });
    }
  });
}
