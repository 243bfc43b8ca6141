// Fault injection: every fault as a client sees it on the wire, rate and script triggers, the controller and the CLI.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RunningEmulator } from '../../carto-emulator/emulator';
import { formatFaultRule, parseFaultSpec } from '../../carto-emulator/fault-specs';
import { FaultRuleError, type FaultRule } from '../../carto-emulator/faults';
import {
  basic,
  completedExport,
  emulator,
  json,
  pollUntil,
  runCli,
  seededMap,
  sleep,
} from './emulator-fixtures';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Whether the whole declared body arrived. */
  complete: boolean;
  elapsed: number;
  /** Set when no response arrived at all. */
  error?: NodeJS.ErrnoException;
}

/** A GET on its own connection that reports what arrived, even when the server cuts the body short. */
function rawGet(
  url: string,
  onData?: (received: number, elapsed: number) => void,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        onData?.(received, Date.now() - started);
      });
      res.on('error', () => undefined);
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          complete: res.complete,
          elapsed: Date.now() - started,
        }),
      );
    });
    req.on('error', (error) =>
      resolve({
        status: 0,
        headers: {},
        body: Buffer.alloc(0),
        complete: false,
        elapsed: Date.now() - started,
        error,
      }),
    );
    req.end();
  });
}

describe('fault injection on the wire', () => {
  let running: RunningEmulator;
  let listing: string;
  let exportUrl: string;
  let downloadUrl: string;
  let expected: Buffer;
  before(async () => {
    running = await emulator();
    listing = `${running.accountUrl('demo')}/api/v1/viz?api_key=demo-key`;
    const done = await completedExport(running, seededMap(running).id);
    exportUrl = `${running.accountUrl('demo')}/api/v3/visualization_exports/${done.id}?api_key=demo-key`;
    downloadUrl = String(done.url);
    expected = await readFile(running.exportFilePath(String(done.id)) as string);
  });
  beforeEach(() => running.faults.clear());
  after(() => running.close());

  it('status5xx answers 500 with Rails JSON, and 502/503 with nginx HTML pages', async () => {
    running.faults.set([
      { endpoint: 'export.show', fault: 'status5xx' },
      { endpoint: 'viz.list', fault: 'status5xx', status: 502 },
      { endpoint: 'export.download', fault: 'status5xx', status: 503, times: 1 },
      { endpoint: 'export.download', fault: 'status5xx', status: 503, body: 'rails' },
    ]);
    const rails = await fetch(exportUrl);
    assert.equal(rails.status, 500);
    assert.match(rails.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await rails.json(), { status: 500, error: 'Internal Server Error' });

    const badGateway = await fetch(listing);
    assert.equal(badGateway.status, 502);
    assert.equal(badGateway.headers.get('server'), 'nginx');
    assert.match(await badGateway.text(), /<title>502 Bad Gateway<\/title>[\s\S]*<center>nginx<\/center>/);

    const unavailable = await fetch(downloadUrl);
    assert.equal(unavailable.status, 503);
    assert.match(await unavailable.text(), /<h1>503 Service Temporarily Unavailable<\/h1>/);
    const railsUnavailable = await fetch(downloadUrl);
    assert.equal(railsUnavailable.status, 503);
    assert.deepEqual(await railsUnavailable.json(), { status: 503, error: 'Service Unavailable' });
  });

  it('rateLimit answers 429 with Retry-After in seconds; rateLimitNoRetryAfter without it', async () => {
    running.faults.set([
      { endpoint: 'export.show', fault: 'rateLimit', retryAfter: 7 },
      { endpoint: 'viz.list', fault: 'rateLimitNoRetryAfter' },
    ]);
    const limited = await fetch(exportUrl);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal(limited.headers.get('carto-rate-limit-remaining'), '0');
    assert.deepEqual((await json(limited)).detail, 'rate-limit');

    const bare = await fetch(listing);
    assert.equal(bare.status, 429);
    assert.equal(bare.headers.get('retry-after'), null);
    await bare.arrayBuffer();
  });

  it('reset destroys the connection before any response, so the client gets a network error', async () => {
    running.faults.set([{ endpoint: 'export.show', fault: 'reset', times: 1 }]);
    await assert.rejects(fetch(exportUrl), (error: Error) => {
      assert.equal(error.name, 'TypeError');
      assert.match(String((error.cause as NodeJS.ErrnoException).code), /ECONNRESET|UND_ERR_SOCKET/);
      return true;
    });
    const raw = await rawGet(exportUrl);
    assert.equal(raw.status, 200, 'only the next request was reset');
  });

  it('truncate sends the full Content-Length, an exact prefix of the file, then closes the socket', async () => {
    running.faults.set([{ endpoint: 'export.download', fault: 'truncate', fraction: 0.25 }]);
    const raw = await rawGet(downloadUrl);
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-length'], String(expected.length));
    assert.equal(raw.complete, false);
    assert.equal(raw.body.length, Math.floor(expected.length * 0.25));
    assert.deepEqual(raw.body, expected.subarray(0, raw.body.length));
    // fetch notices too: reading the body fails instead of returning short bytes.
    const response = await fetch(downloadUrl);
    await assert.rejects(response.arrayBuffer(), /terminated/);
  });

  it('truncate cuts JSON bodies too, and always holds back at least one byte', async () => {
    running.faults.set([{ endpoint: 'export.show', fault: 'truncate', fraction: 0.999999 }]);
    const raw = await rawGet(exportUrl);
    assert.equal(raw.status, 200);
    const declared = Number(raw.headers['content-length']);
    assert.equal(raw.complete, false);
    assert.equal(raw.body.length, declared - 1);
    assert.throws(() => JSON.parse(raw.body.toString('utf8')) as unknown, SyntaxError);
  });

  it('slow delays the response headers by the delay, past a client timeout, then answers normally', async () => {
    running.faults.set([{ endpoint: 'export.show', fault: 'slow', delay: 400 }]);
    const started = Date.now();
    const response = await fetch(exportUrl);
    assert.ok(Date.now() - started >= 400, `answered after ${Date.now() - started} ms`);
    assert.equal((await json(response)).state, 'complete');
    await assert.rejects(fetch(exportUrl, { signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
  });

  it('a client timing out on a slow export creation leaves the emulator healthy', async () => {
    running.faults.set([{ endpoint: 'export.create', fault: 'slow', delay: 200, times: 1 }]);
    const create = (signal?: AbortSignal) =>
      fetch(`${running.accountUrl('demo')}/api/v3/visualization_exports?api_key=demo-key`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ visualization_id: seededMap(running).id }),
        signal,
      });
    await assert.rejects(create(AbortSignal.timeout(50)), { name: 'TimeoutError' });
    await sleep(300);
    assert.equal(running.faults.stats()['export.create']?.slow, 1);
    assert.equal((await create()).status, 201, 'the emulator is still healthy');
  });

  it('malformedJson answers 200 with a complete body that JSON.parse rejects', async () => {
    running.faults.set([{ endpoint: '*', fault: 'malformedJson' }]);
    const response = await fetch(exportUrl);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const text = await response.text();
    assert.equal(Buffer.byteLength(text), Number(response.headers.get('content-length')));
    assert.throws(() => JSON.parse(text) as unknown, SyntaxError);
    // `*` skips the download: a zip is not JSON to begin with.
    const download = await fetch(downloadUrl);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), expected);
  });

  it('stallDownload sends part of the file, goes silent with the socket open, then sends the rest', async () => {
    running.faults.set([{ endpoint: 'export.download', fault: 'stallDownload', fraction: 0.25, pause: 600 }]);
    const progress: { received: number; elapsed: number }[] = [];
    const raw = await rawGet(downloadUrl, (received, elapsed) => progress.push({ received, elapsed }));
    const head = Math.floor(expected.length * 0.25);
    const beforeStall = progress.filter((point) => point.received <= head);
    const afterStall = progress.find((point) => point.received > head);
    assert.equal(beforeStall[beforeStall.length - 1].received, head);
    assert.ok(afterStall, 'the rest arrived');
    assert.ok(
      afterStall.elapsed - beforeStall[beforeStall.length - 1].elapsed >= 550,
      `silent for ${afterStall.elapsed - beforeStall[beforeStall.length - 1].elapsed} ms`,
    );
    assert.equal(raw.complete, true);
    assert.deepEqual(raw.body, expected);
  });

  it('a client with an idle timeout gives up on a stalled download', async () => {
    running.faults.set([{ endpoint: 'export.download', fault: 'stallDownload', pause: 5_000 }]);
    const response = await fetch(downloadUrl, { signal: AbortSignal.timeout(300) });
    assert.equal(response.headers.get('content-length'), String(expected.length));
    await assert.rejects(response.arrayBuffer(), { name: 'TimeoutError' });
  });

  it('expireUrl answers S3 403 "Request has expired" well within the TTL, then the URL works again', async () => {
    running.faults.set([{ endpoint: 'export.download', fault: 'expireUrl', times: 1 }]);
    const expired = await fetch(downloadUrl);
    assert.equal(expired.status, 403);
    assert.equal(expired.headers.get('content-type'), 'application/xml');
    const text = await expired.text();
    assert.match(text, /<Code>AccessDenied<\/Code>/);
    assert.match(text, /<Message>Request has expired<\/Message>/);
    assert.match(text, /<Resource>\/exports-storage\/[0-9a-f]{20}\/Store locations 1 /);
    const again = await fetch(downloadUrl);
    assert.equal(again.status, 200);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), expected);
  });

  it('leaves requests that no rule fires on exactly as before', async () => {
    running.faults.set([
      { endpoint: 'export.download', fault: 'truncate', rate: 0 },
      { endpoint: 'viz.list', fault: 'status5xx' },
    ]);
    const download = await fetch(downloadUrl);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-length'), String(expected.length));
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), expected);
    const show = await fetch(exportUrl);
    assert.equal((await json(show)).state, 'complete');
  });
});

describe('download faults on every url style', () => {
  for (const urlStyle of ['uploads', 'download'] as const) {
    it(`truncates and expires the '${urlStyle}' form as export.download`, async () => {
      const running = await emulator({ urlStyle });
      try {
        const done = await completedExport(running, seededMap(running).id);
        const url = `${running.accountUrl('demo')}${String(done.url).replace(/ /g, '%20')}`;
        const auth = { authorization: basic('demo', 'demo-key') };
        const expected = await readFile(running.exportFilePath(String(done.id)) as string);
        running.faults.set([
          { endpoint: 'export.download', fault: 'truncate', times: 1 },
          { endpoint: 'export.download', fault: 'expireUrl', times: 1 },
        ]);
        const truncated = await rawGet(url, undefined, auth);
        assert.equal(truncated.headers['content-length'], String(expected.length));
        assert.equal(truncated.body.length, Math.floor(expected.length / 2));
        assert.equal((await rawGet(url, undefined, auth)).status, 403);
        const normal = await rawGet(url, undefined, auth);
        assert.deepEqual(normal.body, expected);
        assert.deepEqual(running.faults.stats(), { 'export.download': { truncate: 1, expireUrl: 1 } });
      } finally {
        await running.close();
      }
    });
  }
});

describe('export outcome faults', () => {
  let running: RunningEmulator;
  before(async () => (running = await emulator()));
  beforeEach(() => running.faults.clear());
  after(() => running.close());

  async function exportStates(mapId: string, until: (state: string) => boolean) {
    const base = running.accountUrl('demo');
    const created = await fetch(`${base}/api/v3/visualization_exports?api_key=demo-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ visualization_id: mapId }),
    });
    assert.equal(created.status, 201);
    const { id } = await json(created);
    return pollUntil(`${base}/api/v3/visualization_exports/${id}?api_key=demo-key`, (body) =>
      until(String(body.state)),
    );
  }

  it('exportFails ends the export in failure, without a url, when it would have completed', async () => {
    running.faults.set([{ fault: 'exportFails' }]);
    const { body, states } = await exportStates(seededMap(running).id, (state) => state === 'failure');
    assert.deepEqual(states, ['pending', 'exporting', 'failure']);
    assert.equal(body.url, null);
    const failedAfter = Date.parse(String(body.updated_at)) - Date.parse(String(body.created_at));
    assert.equal(failedAfter, 300);
  });

  it('exportStuck keeps the export exporting long past its duration', async () => {
    running.faults.set([{ endpoint: 'export.create', fault: 'exportStuck' }]);
    const started = Date.now();
    const { states } = await exportStates(
      seededMap(running).id,
      (state) => state !== 'pending' && Date.now() - started > 1_200,
    );
    assert.deepEqual(states, ['pending', 'exporting']);
  });

  it('targets one visualization id, leaving exports of other maps alone', async () => {
    const [first, second] = running.maps('demo').filter((map) => map.type === 'derived');
    running.faults.set([{ fault: 'exportFails', visualizationId: second.id }]);
    const done = (state: string) => state === 'complete' || state === 'failure';
    assert.equal((await exportStates(first.id, done)).body.state, 'complete');
    assert.equal((await exportStates(second.id, done)).body.state, 'failure');
  });

  it('does not count refused exports, and fires by script like request faults', async () => {
    running.faults.set([{ fault: 'exportFails', times: 1, after: 1 }]);
    const refused = await fetch(
      `${running.accountUrl('demo')}/api/v3/visualization_exports?api_key=demo-key`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ visualization_id: '00000000-0000-4000-8000-000000000000' }),
      },
    );
    assert.equal(refused.status, 404);
    await refused.arrayBuffer();
    const done = (state: string) => state === 'complete' || state === 'failure';
    const outcomes = [];
    for (let index = 0; index < 3; index += 1) {
      outcomes.push((await exportStates(seededMap(running).id, done)).body.state);
    }
    assert.deepEqual(outcomes, ['complete', 'failure', 'complete']);
  });
});

describe('fault triggers and the controller', () => {
  let running: RunningEmulator;
  let listing: string;
  before(async () => {
    running = await emulator();
    listing = `${running.accountUrl('demo')}/api/v1/viz?api_key=demo-key`;
  });
  after(() => running.close());

  async function statuses(count: number, url = listing): Promise<number[]> {
    const seen: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const response = await fetch(url);
      await response.arrayBuffer();
      seen.push(response.status);
    }
    return seen;
  }

  it('fires a scripted rule on exactly the next `times` requests after skipping `after`, then stops', async () => {
    running.faults.set([{ endpoint: 'viz.list', fault: 'status5xx', times: 3, after: 2 }]);
    assert.deepEqual(await statuses(8), [200, 200, 500, 500, 500, 200, 200, 200]);
  });

  it('lets the first rule that fires win; a rule that lost keeps its budget', async () => {
    running.faults.set([
      { endpoint: 'viz.list', fault: 'rateLimit', times: 1 },
      { endpoint: '*', fault: 'status5xx', status: 503, times: 1 },
    ]);
    assert.deepEqual(await statuses(3), [429, 503, 200]);
  });

  it('is reproducible with the same seed and fires at roughly the rate', async () => {
    const rules: FaultRule[] = [{ endpoint: 'viz.list', fault: 'status5xx', rate: 0.3 }];
    const runs = [];
    for (const seed of [42, 42, 7]) {
      const seeded = await emulator({ faults: rules, seed });
      try {
        const url = `${seeded.accountUrl('demo')}/api/v1/viz?api_key=demo-key`;
        const seen = await statuses(200, url);
        assert.equal(seeded.faults.stats()['viz.list']?.status5xx, seen.filter((s) => s === 500).length);
        runs.push(seen);
      } finally {
        await seeded.close();
      }
    }
    assert.deepEqual(runs[0], runs[1]);
    assert.notDeepEqual(runs[0], runs[2]);
    for (const seen of runs) {
      const rate = seen.filter((status) => status === 500).length / seen.length;
      assert.ok(rate > 0.2 && rate < 0.4, `fired at ${rate}`);
    }
  });

  it('counts what fired per endpoint and fault, and clear() restores normal behaviour', async () => {
    const counting = await emulator();
    try {
      const base = `${counting.accountUrl('demo')}/api/v1`;
      counting.faults.set([{ endpoint: '*', fault: 'rateLimitNoRetryAfter', times: 2 }]);
      counting.faults.add({ endpoint: 'import.list', fault: 'status5xx' });
      await statuses(1, `${base}/viz?api_key=demo-key`);
      await statuses(3, `${base}/imports?api_key=demo-key`);
      assert.deepEqual(counting.faults.stats(), {
        'viz.list': { rateLimitNoRetryAfter: 1 },
        'import.list': { rateLimitNoRetryAfter: 1, status5xx: 2 },
      });
      counting.faults.clear();
      assert.deepEqual(await statuses(2, `${base}/imports?api_key=demo-key`), [200, 200]);
      assert.equal(counting.faults.stats()['import.list']?.status5xx, 2, 'statistics survive clear()');
    } finally {
      await counting.close();
    }
  });

  it('refuses invalid rules with a message naming the field, keeping the rules in force', async () => {
    running.faults.set([{ endpoint: 'viz.list', fault: 'status5xx' }]);
    assert.throws(
      () => running.faults.set([{ endpoint: 'viz.list', fault: 'status5xx', rate: 1.5 }]),
      (error: Error) =>
        error instanceof FaultRuleError &&
        /faults\[0\]: rate must be a number from 0 to 1/.test(error.message),
    );
    assert.throws(
      () =>
        running.faults.add({ endpoint: 'export.download', fault: 'malformedJson' } as unknown as FaultRule),
      /malformedJson only applies to JSON endpoints/,
    );
    assert.deepEqual(await statuses(1), [500]);
    await assert.rejects(
      emulator({ faults: [{ endpoint: 'export.shw', fault: 'reset' } as unknown as FaultRule] }),
      /faults\[0\]: endpoint must be one of export\.create, .* or \*; got "export\.shw"/,
    );
    await assert.rejects(emulator({ seed: -1 }), /seed must be a whole number/);
  });
});

describe('fault specs on the command line', () => {
  it('parses endpoint:fault[:key=value,...] and formats rules back the same way', () => {
    assert.deepEqual(parseFaultSpec('export.show:status5xx:rate=0.2'), {
      endpoint: 'export.show',
      fault: 'status5xx',
      rate: 0.2,
    });
    assert.deepEqual(parseFaultSpec('export.download:stallDownload:fraction=0.1,pause=2m,times=1'), {
      endpoint: 'export.download',
      fault: 'stallDownload',
      fraction: 0.1,
      pause: 120_000,
      times: 1,
    });
    for (const spec of [
      'export.download:truncate:times=1',
      '*:slow:delay=45s,rate=0.1,after=3',
      'viz.list:slow:delay=1500ms',
      'export.create:exportFails:visualizationId=2b3c1b2e-59b8-4c59-b0a2-8a9e0a5b4b0a',
    ]) {
      assert.equal(formatFaultRule(parseFaultSpec(spec)), spec);
    }
  });

  it('exits with 2 and names --fault and the fix on a bad spec', async () => {
    const cases: [string, RegExp][] = [
      ['export.show', /expected endpoint:fault\[:key=value,\.\.\.\]/],
      ['export.show:explode', /fault must be one of status5xx, /],
      ['export.show:status5xx:rate=2', /rate must be a number from 0 to 1, got 2/],
      [
        'export.show:status5xx:code=502',
        /status5xx does not take "code"; it takes rate, times, after, status, body/,
      ],
      ['export.show:slow:delay=soon', /delay must be a duration such as 300ms/],
    ];
    for (const [spec, message] of cases) {
      const { code, stderr } = await runCli(['--fault', spec]);
      assert.equal(code, 2, spec);
      assert.match(stderr, /--fault <spec>/, spec);
      assert.match(stderr, message, spec);
    }
    const badSeed = await runCli(['--fault-seed', 'abc']);
    assert.equal(badSeed.code, 2);
    assert.match(badSeed.stderr, /--fault-seed/);
  });

  it('documents the syntax in --help and lists the active faults in the banner', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--fault endpoint:fault\[:key=value,\.\.\.\]/);
    assert.match(help.stdout, /stallDownload/);
    const started = await runCli(
      [
        '--fault',
        'export.show:status5xx:rate=0.2',
        '--fault',
        'export.download:truncate:times=1',
        '--fault-seed',
        '42',
      ],
      /Press Ctrl-C/,
    );
    assert.equal(started.code, 0);
    assert.match(
      started.stdout,
      /faults \(seed 42, first that fires wins\): export\.show:status5xx:rate=0\.2 {2}export\.download:truncate:times=1/,
    );
  });
});
