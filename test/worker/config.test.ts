// Worker configuration: every bad variable is named with its fix, and no API key is ever echoed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadWorkerConfig } from '../../worker/config';

const accounts = JSON.stringify({ demo: { baseUrl: 'https://demo.carto.com', apiKey: 'secret-master-key' } });

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadWorkerConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.doesNotMatch(error.message, /secret-master-key/);
    return error.problems;
  }
  return assert.fail('expected a ConfigError');
}

describe('worker configuration', () => {
  test('applies defaults around the one required variable', () => {
    const config = loadWorkerConfig({ CARTO_ACCOUNTS: accounts });
    assert.equal(config.temporal.address, 'localhost:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.temporal.taskQueue, 'carto-export');
    assert.equal(config.s3.checksums, 'WHEN_SUPPORTED');
    assert.equal(config.s3.forcePathStyle, false);
    assert.equal(config.copy.partSize, 16 * 1024 * 1024);
    assert.equal(config.accounts.demo.apiKey, 'secret-master-key');
  });

  test('tunes S3 for a custom endpoint', () => {
    const config = loadWorkerConfig({
      CARTO_ACCOUNTS: accounts,
      S3_ENDPOINT: 'http://127.0.0.1:8333',
      AWS_ACCESS_KEY_ID: 'a',
      AWS_SECRET_ACCESS_KEY: 'b',
    });
    assert.equal(config.s3.forcePathStyle, true);
    assert.equal(config.s3.checksums, 'WHEN_REQUIRED');
    assert.deepEqual(config.s3.credentials, { accessKeyId: 'a', secretAccessKey: 'b' });
  });

  test('names each bad variable', () => {
    const problems = problemsOf({
      CARTO_ACCOUNTS: accounts,
      S3_ENDPOINT: 'not a url',
      S3_FORCE_PATH_STYLE: 'maybe',
      CARTO_FERRY_BUCKET: 'Bad_Bucket',
    });
    assert.ok(problems.some((p) => p.startsWith('S3_ENDPOINT')));
    assert.ok(problems.some((p) => p.startsWith('S3_FORCE_PATH_STYLE')));
    assert.ok(problems.some((p) => p.startsWith('CARTO_FERRY_BUCKET')));
  });

  test('requires accounts and explains the format', () => {
    const [problem] = problemsOf({});
    assert.match(problem, /^CARTO_ACCOUNTS: required, as JSON/);
  });

  test('reports a bad account by alias and field without echoing the key', () => {
    const problems = problemsOf({
      CARTO_ACCOUNTS: JSON.stringify({
        demo: { baseUrl: 'ftp://x', apiKey: 'secret-master-key' },
        other: { baseUrl: 'https://o.carto.com' },
      }),
    });
    assert.ok(problems.some((p) => p.startsWith('CARTO_ACCOUNTS.demo.baseUrl')));
    assert.ok(problems.some((p) => p.startsWith('CARTO_ACCOUNTS.other.apiKey')));
  });

  test('does not quote unparsable account JSON, which may hold keys', () => {
    const [problem] = problemsOf({ CARTO_ACCOUNTS: '{"demo": {"apiKey": "secret-master-key", }' });
    assert.match(problem, /^CARTO_ACCOUNTS: is not valid JSON/);
  });

  test('reads accounts from CARTO_ACCOUNTS_FILE, and names a missing file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-config-'));
    const file = path.join(dir, 'accounts.json');
    writeFileSync(file, accounts);
    assert.deepEqual(Object.keys(loadWorkerConfig({ CARTO_ACCOUNTS_FILE: file }).accounts), ['demo']);
    const [problem] = problemsOf({ CARTO_ACCOUNTS_FILE: path.join(dir, 'missing.json') });
    assert.match(problem, /^CARTO_ACCOUNTS_FILE: cannot read .*ENOENT/);
  });

  test('needs both S3 key halves or neither', () => {
    const [problem] = problemsOf({ CARTO_ACCOUNTS: accounts, AWS_ACCESS_KEY_ID: 'a' });
    assert.match(problem, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });
});
