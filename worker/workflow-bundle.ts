// The workflow code, bundled once per version of its sources and in a child process, so a worker never holds webpack.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const REPO = path.resolve(__dirname, '..');
/** What the bundle is made of: the workflow code, the contract it imports, and the exact dependency versions. */
const SOURCES = ['workflows', 'contract', 'package-lock.json'];
const CACHE = path.join(REPO, 'node_modules', '.cache', 'carto-ferry');
const BUILD_SCRIPT = path.join(__dirname, 'build-workflow-bundle.ts');

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Path of the bundle for the current sources, building it first when there is none. Bundling in-process leaves
 * webpack's ~115 MiB in the worker's heap for good (measured with `npm run bench`); a child process returns it.
 */
export async function workflowBundlePath(): Promise<string> {
  const codePath = path.join(CACHE, `workflows-${await sourcesFingerprint()}.js`);
  if (!existsSync(codePath)) {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', BUILD_SCRIPT, codePath], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  return codePath;
}

/** SHA-256 over the sources' paths and contents: any edit names a new bundle, so a stale one is never loaded. */
export async function sourcesFingerprint(root = REPO): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await filesOf(SOURCES.map((source) => path.join(root, source)))) {
    hash
      .update(path.relative(root, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 20);
}

async function filesOf(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const entry of paths) {
    const children = await readdir(entry, { withFileTypes: true }).catch(() => undefined);
    if (!children) {
      files.push(entry);
      continue;
    }
    files.push(...(await filesOf(children.map((child) => path.join(entry, child.name)))));
  }
  return files.sort();
}
