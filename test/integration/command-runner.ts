// Runs the command lines users type (`npx carto-ferry`, the real `temporal` CLI) against a real stack, and waits for states.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { findBinary } from '../../local-stack/binaries';
import type { RealStack } from '../support/real-stack';

const run = promisify(execFile);
export const REPO = path.resolve(__dirname, '../..');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment `npx carto-ferry` needs to reach the stack. */
export function cliEnv(stack: RealStack): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    CARTO_FERRY_TASK_QUEUE: stack.taskQueue,
  };
}

/** Runs `npx carto-ferry ...`; resolves with the exit code instead of throwing. */
export function cartoFerry(stack: RealStack, ...args: string[]): Promise<CommandResult> {
  return runCommand('npx', ['--no-install', 'carto-ferry', ...args], cliEnv(stack));
}

/** Runs the real `temporal` CLI against the stack. */
export function temporal(stack: RealStack, ...args: string[]): Promise<CommandResult> {
  return runCommand(findBinary('temporal'), [...args, '--address', stack.temporalAddress], process.env);
}

export async function runCommand(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: REPO, env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

export interface RunningCommand {
  /** Everything the command has written to stdout so far. */
  stdout(): string;
  /** Resolves once stdout matches; rejects if the command exits first or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<CommandResult>;
}

/** Starts a command and lets the test watch its output while it runs. */
export function startCommand(file: string, args: string[], env: NodeJS.ProcessEnv): RunningCommand {
  const child = spawn(file, args, { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let done = false;
  const exited = new Promise<CommandResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      done = true;
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
  return {
    stdout: () => stdout,
    exited,
    async waitForOutput(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (done) throw new Error(`Exited before printing ${pattern}:\n${stdout}\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${pattern}:\n${stdout}\n${stderr}`);
        await delay(50);
      }
    },
  };
}

/** Runs `npx carto-ferry ...` in the background. */
export function startCartoFerry(stack: RealStack, ...args: string[]): RunningCommand {
  return startCommand('npx', ['--no-install', 'carto-ferry', ...args], cliEnv(stack));
}

/** Calls `read` until `accept` holds for its value; throws naming `what` (and the last value) after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await delay(100);
  }
  throw new Error(
    `Timed out waiting for ${what}; last value ${JSON.stringify(last)}${lastError ? `, last error ${String(lastError)}` : ''}`,
  );
}
