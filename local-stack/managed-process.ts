// A server child process that dies with this Node process, keeps the tail of its output, and stops on request.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';

export interface ManagedProcessOptions {
  /** Human name used in errors, e.g. 'temporal dev server'. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Append the child's stdout and stderr to this file (created with its folder if missing). */
  logFile?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly process: ChildProcess;
  /** Settles once the child has exited and its output is fully read. Never rejects. */
  readonly exited: Promise<ExitStatus>;
  /** The last few KiB of the child's combined stdout and stderr. */
  outputTail(): string;
  /**
   * Polls `probe` until it returns true. Throws a ServerStartError if the child exits first or `timeoutMs` passes;
   * the child is left running in the timeout case, for the caller to kill.
   */
  waitUntilReady(probe: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  /** SIGTERM, then SIGKILL if the child is still alive after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL; resolves once the child has exited. */
  kill(): Promise<void>;
}

export type StartFailure = 'exited' | 'timeout';

/** A server that did not become ready; `outputTail` holds what it printed (usually the reason). */
export class ServerStartError extends Error {
  constructor(
    message: string,
    readonly server: string,
    readonly reason: StartFailure,
    readonly outputTail: string,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

const TAIL_BYTES = 8 * 1024;
const PROBE_INTERVAL_MS = 100;
const DEFAULT_GRACE_MS = 10_000;

/**
 * Spawns `command` so that it cannot outlive this process: on Linux through `setpriv --pdeathsig SIGKILL`, which
 * makes the kernel kill it even when Node itself dies by SIGKILL (a CI timeout, `kill -9`), and everywhere through
 * an `exit` hook. The kernel ties that signal to the spawning thread, so spawn from the main thread (or a worker
 * thread that outlives the server). The child does not keep Node's event loop alive: a test file or script that
 * forgets to stop it still ends, and the server ends with it.
 */
export function spawnManaged(options: ManagedProcessOptions): ManagedProcess {
  const { name, command, args } = options;
  const setpriv = process.platform === 'linux' ? findSetpriv() : undefined;
  const [file, argv] = setpriv
    ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', command, ...args]]
    : [command, [...args]];
  const child = spawn(file, argv, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  registerExitHook();

  let tail = '';
  const log = options.logFile ? openLog(options.logFile) : undefined;
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    });
  }
  // Both the process handle and its pipes hold the event loop open; release both (see the doc comment above).
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket).unref();

  let closed = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('error', (error) => {
      tail = (tail + `\n${error.message}`).slice(-TAIL_BYTES);
    });
    child.once('close', (code, signal) => {
      closed = true;
      running.delete(child);
      log?.end();
      resolve({ code, signal });
    });
  });

  const commandLine = [command, ...args].join(' ');
  const startError = (reason: StartFailure, detail: string): ServerStartError =>
    new ServerStartError(
      `${name} ${detail}.\nCommand: ${commandLine}\nLast output:\n${tail.trim() || '(none)'}`,
      name,
      reason,
      tail,
    );

  async function waitUntilReady(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastProbeError = '';
    for (;;) {
      if (closed) throw startError('exited', `exited (${describeExit(await exited)}) before it was ready`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const why = lastProbeError ? `; last probe error: ${lastProbeError}` : '';
        throw startError('timeout', `was not ready within ${timeoutMs} ms${why}`);
      }
      // A probe that hangs must not outlast the deadline, and an exit must not wait for the probe.
      const outcome = await raceWith(probe(), remaining, exited).catch((error: unknown) => {
        lastProbeError = error instanceof Error ? error.message : String(error);
        return false;
      });
      if (outcome === true) return;
      await raceWith(delay(PROBE_INTERVAL_MS), PROBE_INTERVAL_MS, exited);
    }
  }

  async function signalAndWait(signal: NodeJS.Signals, killAfterMs?: number): Promise<void> {
    if (closed) return;
    // Awaiting an unref'd child would let Node exit mid-await; hold the loop open until it is gone.
    child.ref();
    const escalation =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.kill(signal);
    await exited;
    if (escalation) clearTimeout(escalation);
  }

  return {
    process: child,
    exited,
    outputTail: () => tail,
    waitUntilReady,
    stop: (graceMs = DEFAULT_GRACE_MS) => signalAndWait('SIGTERM', graceMs),
    kill: () => signalAndWait('SIGKILL'),
  };
}

const running = new Set<ChildProcess>();
const exitCleanups = new Set<() => void>();
let exitHookRegistered = false;

/**
 * Runs `cleanup` when this Node process exits, after every managed child has been sent SIGKILL; for files a server
 * leaves behind. `cleanup` must be synchronous, as 'exit' handlers are. Returns a function that cancels it.
 */
export function atProcessExit(cleanup: () => void): () => void {
  registerExitHook();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

function registerExitHook(): void {
  if (exitHookRegistered) return;
  exitHookRegistered = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // Best effort: the process is exiting and has nowhere to report this.
      }
    }
  });
}

function findSetpriv(): string | undefined {
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next one
    }
  }
  return undefined;
}

function openLog(file: string) {
  mkdirSync(path.dirname(file), { recursive: true });
  return createWriteStream(file, { flags: 'a' });
}

function describeExit({ code, signal }: ExitStatus): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

/** Resolves with `work`'s value, or with false once `ms` pass or `exited` settles, whichever comes first. */
function raceWith<T>(work: Promise<T>, ms: number, exited: Promise<ExitStatus>): Promise<T | false> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([work, timeout, exited.then(() => false as const)]).finally(() => clearTimeout(timer));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
