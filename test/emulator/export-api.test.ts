// Conformance of the emulated Visualization Export API v3 (POST, GET, states, errors) to the CARTO reference.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fromBuffer, type Entry } from 'yauzl';
import type { RunningEmulator } from '../../carto-emulator/emulator';
import { completedExport, emulator, json, pollUntil, seededMap } from './emulator-fixtures';

const PRESENTER_FIELDS = ['id', 'visualization_id', 'user_id', 'state', 'url', 'created_at', 'updated_at'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('visualization export API', () => {
  let running: RunningEmulator;
  let base: string;
  before(async () => {
    running = await emulator();
    base = running.accountUrl('demo');
  });
  after(() => running.close());

  const create = (query: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/v3/visualization_exports${query}`, {
      method: 'POST',
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('answers a JSON create with 201 and exactly the seven presenter fields, pending and without url', async () => {
    const map = seededMap(running);
    const response = await create('?api_key=demo-key', { visualization_id: map.id });
    assert.equal(response.status, 201);
    const body = await json(response);
    assert.deepEqual(Object.keys(body), PRESENTER_FIELDS);
    assert.match(String(body.id), UUID);
    assert.equal(body.visualization_id, map.id);
    assert.equal(body.state, 'pending');
    assert.equal(body.url, null);
    assert.match(String(body.user_id), UUID);
    assert.equal(body.created_at, body.updated_at);
    assert.match(String(body.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('accepts carto-python style query parameters with a trailing slash and no body', async () => {
    const map = seededMap(running);
    const response = await create(`/?visualization_id=${map.id}&api_key=demo-key&client=cps-1.11.3`);
    assert.equal(response.status, 201);
    assert.equal((await json(response)).visualization_id, map.id);
  });

  it('treats a missing or invalid key as anonymous: public maps export with user_id null, never 401', async () => {
    const map = seededMap(running);
    for (const query of ['', '?api_key=not-the-key', '?api_key=target-key']) {
      const response = await create(query, { visualization_id: map.id });
      assert.equal(response.status, 201, query);
      assert.equal((await json(response)).user_id, null, query);
    }
  });

  it('refuses a private map to anonymous callers and to other users with the 403 body of the reference', async () => {
    const map = seededMap(running, 'PRIVATE');
    const expected = {
      errors: 'Errors: ["User Must be able to view the visualization"]',
      errors_cause: null,
    };
    const anonymous = await create('', { visualization_id: map.id });
    assert.equal(anonymous.status, 403);
    assert.deepEqual(await json(anonymous), expected);
    const otherUser = await fetch(
      `${running.accountUrl('target')}/api/v3/visualization_exports?api_key=target-key`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ visualization_id: map.id }),
      },
    );
    assert.equal(otherUser.status, 403);
    assert.deepEqual(await json(otherUser), expected);
    const owner = await create('?api_key=demo-key', { visualization_id: map.id });
    assert.equal(owner.status, 201);
  });

  it('answers an unknown visualization with 404 and names the id', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const response = await create('?api_key=demo-key', { visualization_id: id });
    assert.equal(response.status, 404);
    assert.deepEqual(await json(response), { errors: `Visualization not found: ${id}`, errors_cause: null });
  });

  it('refuses to export a dataset with 422 "Only derived visualizations can be exported"', async () => {
    const dataset = running.maps('demo').find((map) => map.type === 'table' && map.privacy === 'PUBLIC');
    assert.ok(dataset);
    const response = await create('?api_key=demo-key', { visualization_id: dataset.id });
    assert.equal(response.status, 422);
    assert.deepEqual(await json(response), {
      errors: 'Errors: ["Visualization Only derived visualizations can be exported"]',
      errors_cause: null,
    });
  });

  it('refuses user_tables_ids that are not tables of the map with 422 listing each one', async () => {
    const map = seededMap(running);
    const foreign = running.maps('demo').find((other) => other.type === 'derived' && other.id !== map.id);
    assert.ok(foreign);
    const response = await create('?api_key=demo-key', {
      visualization_id: map.id,
      user_tables_ids: `${map.tableIds[0]},${foreign.tableIds[0]}`,
    });
    assert.equal(response.status, 422);
    assert.deepEqual(await json(response), {
      errors: `Errors: ["User tables ids User table ${foreign.tableIds[0]} is not related to visualization ${map.id}"]`,
      errors_cause: null,
    });
  });

  it('moves pending → exporting → complete over exportDuration and shows url only when complete', async () => {
    const map = seededMap(running);
    const created = await json(await create('?api_key=demo-key', { visualization_id: map.id }));
    const seen: Record<string, unknown>[] = [];
    const { body, states } = await pollUntil(
      `${base}/api/v3/visualization_exports/${created.id}/?api_key=demo-key`,
      (current) => {
        seen.push(current);
        return current.state === 'complete';
      },
    );
    assert.deepEqual(
      states.filter((state) => state !== 'uploading'),
      ['pending', 'exporting', 'complete'],
    );
    assert.ok(states.every((state) => ['pending', 'exporting', 'uploading', 'complete'].includes(state)));
    for (const current of seen) {
      assert.deepEqual(Object.keys(current), PRESENTER_FIELDS);
      assert.equal(current.url === null, current.state !== 'complete');
    }
    assert.match(String(body.url), /^http:\/\/127\.0\.0\.1:\d+\/exports-storage\//);
    assert.ok(Date.parse(String(body.updated_at)) - Date.parse(String(body.created_at)) >= 300);
  });

  it('lets only the exporter read its export, while an anonymous export is readable by anyone', async () => {
    const map = seededMap(running);
    const owned = await json(await create('?api_key=demo-key', { visualization_id: map.id }));
    const anonymous = await json(await create('', { visualization_id: map.id }));
    const show = (id: unknown, query = '', account = 'demo') =>
      fetch(`${running.accountUrl(account)}/api/v3/visualization_exports/${id}${query}`);
    const forbidden = { errors: "You don't have permission to access that resource", errors_cause: null };
    const stranger = await show(owned.id);
    assert.equal(stranger.status, 403);
    assert.deepEqual(await json(stranger), forbidden);
    assert.equal((await show(owned.id, '?api_key=target-key', 'target')).status, 403);
    assert.equal((await show(owned.id, '?api_key=demo-key')).status, 200);
    assert.equal((await show(anonymous.id)).status, 200);
    assert.equal((await show(anonymous.id, '?api_key=target-key', 'target')).status, 200);
  });

  it('answers an unknown export id with 404 and a non-UUID id with the lenient 400', async () => {
    const unknown = '11111111-1111-4111-8111-111111111111';
    const missing = await fetch(`${base}/api/v3/visualization_exports/${unknown}?api_key=demo-key`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await json(missing), {
      errors: `Visualization export not found: ${unknown}`,
      errors_cause: null,
    });
    const malformed = await fetch(`${base}/api/v3/visualization_exports/not-a-uuid?api_key=demo-key`);
    assert.equal(malformed.status, 400);
    assert.deepEqual(await json(malformed), {
      errors: 'Parameter not UUID format. Parameter: id. Value: not-a-uuid',
      errors_cause: null,
    });
  });

  it('produces a .carto zip with one <uuid>/<uuid>.carto.json (version 2.1.4) and a .gpkg per table', async () => {
    const map = seededMap(running);
    assert.equal(map.tableIds.length, 2);
    const done = await completedExport(running, map.id);
    const bytes = await readFile(running.exportFilePath(String(done.id)) as string);
    assert.equal(bytes.length, 64 * 1024);
    const entries = await zipEntries(bytes);
    const tableNames = running
      .maps('demo')
      .filter((candidate) => candidate.type === 'table' && map.tableIds.includes(candidate.tableIds[0]))
      .map((dataset) => dataset.name)
      .sort();
    assert.deepEqual(
      [...entries.keys()].sort(),
      [`${map.id}/${map.id}.carto.json`, ...tableNames.map((name) => `${map.id}/${name}.gpkg`)].sort(),
    );
    const document = JSON.parse(entries.get(`${map.id}/${map.id}.carto.json`)!.toString('utf8'));
    assert.equal(document.version, '2.1.4');
    for (const key of [
      'id',
      'name',
      'type',
      'privacy',
      'map',
      'layers',
      'overlays',
      'analyses',
      'user',
      'permission',
    ]) {
      assert.ok(key in document.visualization, key);
    }
    assert.equal(document.visualization.id, map.id);
    assert.equal(document.visualization.name, map.name);
    assert.equal(document.visualization.privacy, 'public');
    const layerTables = document.visualization.layers
      .filter((layer: { options: { table_name?: string } }) => layer.options.table_name)
      .map((layer: { options: { table_name: string; user_name: string } }) => [
        layer.options.table_name,
        layer.options.user_name,
      ]);
    assert.deepEqual(
      layerTables.sort(),
      tableNames.map((name) => [name, 'demo']),
    );
    for (const name of tableNames) {
      assert.equal(
        entries.get(`${map.id}/${name}.gpkg`)!.subarray(0, 16).toString('latin1'),
        'SQLite format 3\u0000',
      );
    }
  });

  it('includes only the data of user_tables_ids while the document keeps every layer', async () => {
    const map = seededMap(running);
    const done = await completedExport(running, map.id, { user_tables_ids: map.tableIds[0] });
    const entries = await zipEntries(await readFile(running.exportFilePath(String(done.id)) as string));
    const gpkgs = [...entries.keys()].filter((name) => name.endsWith('.gpkg'));
    assert.equal(gpkgs.length, 1);
    const document = JSON.parse(entries.get(`${map.id}/${map.id}.carto.json`)!.toString('utf8'));
    assert.equal(
      document.visualization.layers.filter((layer: { kind: string }) => layer.kind === 'carto').length,
      2,
    );
  });
});

async function zipEntries(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<import('yauzl').ZipFile>((resolve, reject) =>
    fromBuffer(bytes, { lazyEntries: true }, (error, file) => (error ? reject(error) : resolve(file))),
  );
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: Entry) => {
      zip.openReadStream(entry, async (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        entries.set(entry.fileName, Buffer.concat(chunks));
        zip.readEntry();
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return entries;
}
