// The emulator's command line: unit parsing, usage errors that name the flag, the start banner and Ctrl-C.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration, parseSize } from '../../carto-emulator/cli-values';
import { runCli } from './emulator-fixtures';

describe('carto-emulator command line', () => {
  it('reads sizes in binary and decimal units and durations in ms style', () => {
    assert.equal(parseSize('5MiB'), 5 * 1024 * 1024);
    assert.equal(parseSize('1GiB'), 1024 ** 3);
    assert.equal(parseSize('500KB'), 500_000);
    assert.equal(parseSize('1234'), 1234);
    assert.throws(() => parseSize('5XB'), /5XB/);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('300'), 300);
    assert.throws(() => parseDuration('soon'), /soon/);
  });

  it('exits with 2 and names the flag on a bad value or an unknown flag', async () => {
    const badSize = await runCli(['--export-size', '5XB']);
    assert.equal(badSize.code, 2);
    assert.match(badSize.stderr, /--export-size/);
    const unknown = await runCli(['--exports', '3']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--exports/);
    const badStyle = await runCli(['--url-style', 'signed']);
    assert.equal(badStyle.code, 2);
    assert.match(badStyle.stderr, /--url-style/);
  });

  it('prints the base URL, users and map ids on start and stops cleanly on Ctrl-C', async () => {
    const { code, signal, stdout } = await runCli(
      ['--port', '0', '--maps', '2', '--user', 'alice:alice-key'],
      /Press Ctrl-C/,
    );
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.match(stdout, /CARTO emulator listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stdout, /alice\s+http:\/\/127\.0\.0\.1:\d+\/user\/alice\s+alice-key/);
    const mapLines = stdout
      .split('\n')
      .filter((line) => /^ {2}[0-9a-f-]{36} {2}(PUBLIC|PRIVATE)\s+alice\s+\S/.test(line));
    assert.equal(mapLines.filter((line) => /Store locations 1|Delivery zones 2/.test(line)).length, 2);
    assert.match(stdout, /Stopping the CARTO emulator/);
  });
});
