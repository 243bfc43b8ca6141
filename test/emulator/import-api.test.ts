// Conformance of the emulated Import API v1: auth, sources, states, created tables and maps, and failure codes.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../carto-emulator/emulator';
import {
  completedExport,
  emulator,
  fileServer,
  json,
  pollUntil,
  seededMap,
  zipOf,
} from './emulator-fixtures';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const IMPORT_STATES = ['pending', 'uploading', 'unpacking', 'importing', 'guessing', 'complete', 'failure'];

describe('import API', () => {
  let running: RunningEmulator;
  let target: string;
  let cartoFile: Buffer;
  let exportedMap: { id: string; name: string };
  before(async () => {
    running = await emulator({ maxConcurrentImports: 50 });
    target = running.accountUrl('target');
    const map = seededMap(running);
    exportedMap = map;
    const done = await completedExport(running, map.id);
    cartoFile = await readFile(running.exportFilePath(String(done.id)) as string);
  });
  after(() => running.close());

  const upload = (
    file: Buffer,
    filename: string,
    fields: Record<string, string> = {},
    query = '?api_key=target-key',
  ) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    form.set('file', new Blob([file]), filename);
    return fetch(`${target}/api/v1/imports${query}`, { method: 'POST', body: form });
  };
  const finalState = (id: unknown) =>
    pollUntil(`${target}/api/v1/imports/${id}/?api_key=target-key`, (body) =>
      ['complete', 'failure'].includes(String(body.state)),
    );
  const importAndWait = async (file: Buffer, filename: string, fields: Record<string, string> = {}) => {
    const response = await upload(file, filename, fields);
    assert.equal(response.status, 200);
    return finalState((await json(response)).item_queue_id);
  };

  it('answers 401 with an empty body without the master key of the URL user', async () => {
    for (const query of ['', '?api_key=wrong', '?api_key=demo-key']) {
      const response = await upload(cartoFile, 'map.carto', {}, query);
      assert.equal(response.status, 401, query);
      assert.equal(await response.text(), '', query);
    }
    const show = await fetch(`${target}/api/v1/imports/11111111-1111-4111-8111-111111111111`);
    assert.equal(show.status, 401);
    assert.equal(await show.text(), '');
  });

  it('restores an uploaded .carto with create_vis=true into a new map with its tables', async () => {
    const response = await upload(cartoFile, 'Store locations 1.carto', { create_vis: 'true' });
    assert.equal(response.status, 200);
    const created = await json(response);
    assert.deepEqual(Object.keys(created), ['item_queue_id', 'success']);
    assert.match(String(created.item_queue_id), UUID);
    assert.equal(created.success, true);
    const { body, states } = await finalState(created.item_queue_id);
    assert.ok(
      states.every((state) => IMPORT_STATES.includes(state)),
      states.join(),
    );
    assert.ok(
      states.includes('uploading') && states.includes('unpacking') && states.includes('importing'),
      states.join(),
    );
    assert.equal(body.state, 'complete');
    assert.equal(body.success, true);
    assert.equal(body.error_code, null);
    assert.equal(body.data_type, 'file');
    assert.equal(body.display_name, 'Store_locations_1.carto');
    assert.equal(body.tables_created_count, 2);
    assert.match(String(body.visualization_id), UUID);
    assert.notEqual(body.visualization_id, exportedMap.id);
    assert.equal(body.derived_visualization_id, body.visualization_id);
    assert.equal(body.queue_id, body.id);
    const restored = running.importedMaps('target').find((map) => map.id === body.visualization_id);
    assert.ok(restored);
    assert.equal(restored.type, 'derived');
    assert.equal(restored.owner, 'target');
    assert.equal(restored.tableIds.length, 2);
    assert.ok(restored.tableIds.includes(String(body.table_id)));
  });

  it('renames colliding tables t → t_1 and the map to "<name> Import" on a second restore', async () => {
    const first = await importAndWait(cartoFile, 'again.carto', { create_vis: 'true' });
    const second = await importAndWait(cartoFile, 'again.carto', { create_vis: 'true' });
    assert.equal(second.body.state, 'complete');
    const firstTable = String(first.body.table_name);
    assert.match(String(second.body.table_name), new RegExp(`^${firstTable.replace(/_\d+$/, '')}_\\d+$`));
    assert.notEqual(second.body.table_name, first.body.table_name);
    const names = running
      .importedMaps('target')
      .filter((map) => map.type === 'derived')
      .map((map) => map.name);
    assert.ok(names.includes(`${exportedMap.name} Import`), names.join());
  });

  it('completes with error_code 1022 and no tables when collision_strategy=skip skips them all', async () => {
    await importAndWait(cartoFile, 'base.carto');
    const { body } = await importAndWait(cartoFile, 'base.carto', { collision_strategy: 'skip' });
    assert.equal(body.state, 'complete');
    assert.equal(body.error_code, 1022);
    assert.equal(body.tables_created_count, 0);
    assert.deepEqual(body.get_error_text, {
      title: 'All tables were skipped',
      what_about: (body.get_error_text as { what_about: string }).what_about,
      source: 'user',
    });
  });

  it('imports by url (downloading it really) and reports the url as data source', async () => {
    const server = await fileServer({ '/bucket/exports/map.carto': { body: cartoFile } });
    try {
      const url = server.url('/bucket/exports/map.carto') + '?X-Amz-Signature=abc';
      const response = await fetch(`${target}/api/v1/imports?api_key=target-key`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url, create_vis: true }),
      });
      assert.equal(response.status, 200);
      const { body } = await finalState((await json(response)).item_queue_id);
      assert.equal(body.state, 'complete');
      assert.equal(body.data_type, 'url');
      assert.equal(body.original_url, url);
      assert.equal(body.display_name, 'map.carto');
      assert.equal(body.tables_created_count, 2);
      assert.match(String(body.derived_visualization_id), UUID);
      assert.equal('http_response_code' in body, false);
    } finally {
      await server.close();
    }
  });

  it('fails url downloads with 1100 for 404 and 1001 for other statuses, with http_response_code strings', async () => {
    const server = await fileServer({ '/broken.carto': { status: 500, body: Buffer.from('boom') } });
    try {
      for (const [path, code, status] of [
        ['/missing.carto', 1100, '404'],
        ['/broken.carto', 1001, '500'],
      ] as const) {
        const response = await fetch(
          `${target}/api/v1/imports?api_key=target-key&url=${encodeURIComponent(server.url(path))}`,
          {
            method: 'POST',
          },
        );
        const { body } = await finalState((await json(response)).item_queue_id);
        assert.equal(body.state, 'failure', path);
        assert.equal(body.error_code, code, path);
        assert.equal(body.http_response_code, status, path);
        assert.equal(typeof body.http_response_code_message, 'string');
        assert.equal(body.success, false);
      }
    } finally {
      await server.close();
    }
  });

  it('fails bad files with the documented error codes', async () => {
    const document = (version: string) =>
      JSON.stringify({ version, visualization: { id: 'x', name: 'X', privacy: 'public', layers: [] } });
    const cases: [string, string, Buffer, number][] = [
      ['not a zip named .carto', 'broken.carto', Buffer.from('this is not a zip archive'), 1003],
      ['unsupported type', 'notes.bin', Buffer.from('plain bytes'), 1002],
      ['empty file', 'empty.carto', Buffer.alloc(0), 1005],
      [
        'zip without a .carto.json',
        'tables.carto',
        await zipOf([{ name: 'x/t.gpkg', data: 'SQLite format 3' }]),
        1002,
      ],
      [
        'two .carto.json documents',
        'twice.carto',
        await zipOf([
          { name: 'x/a.carto.json', data: document('2.1.4') },
          { name: 'x/b.carto.json', data: document('2.1.4') },
          { name: 'x/t.gpkg', data: 'SQLite format 3' },
        ]),
        1002,
      ],
      [
        'export version 3',
        'future.carto',
        await zipOf([
          { name: 'x/x.carto.json', data: document('3.0.0') },
          { name: 'x/t.gpkg', data: 'SQLite format 3' },
        ]),
        99999,
      ],
    ];
    for (const [label, filename, file, code] of cases) {
      const { body } = await importAndWait(file, filename, { create_vis: 'true' });
      assert.equal(body.state, 'failure', label);
      assert.equal(body.error_code, code, label);
      assert.equal(typeof (body.get_error_text as { title?: unknown }).title, 'string', label);
      assert.equal(body.tables_created_count, null, label);
      assert.equal(body.visualization_id, null, label);
    }
  });

  it('accepts a POST without any source with 200 and fails it later (1010, no error text)', async () => {
    const response = await fetch(`${target}/api/v1/imports/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: 'target-key', client: 'cps-1.11.3' }),
    });
    assert.equal(response.status, 200);
    const { body } = await finalState((await json(response)).item_queue_id);
    assert.equal(body.state, 'failure');
    assert.equal(body.error_code, 1010);
    assert.equal(body.get_error_text, null);
    assert.equal(body.data_type, 'datasource');
    assert.equal(body.display_name, body.id);
  });

  it('takes a raw request body with ?filename= as the file', async () => {
    const response = await fetch(
      `${target}/api/v1/imports?api_key=target-key&filename=raw%20body.carto&create_vis=true`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: cartoFile,
      },
    );
    assert.equal(response.status, 200);
    const { body } = await finalState((await json(response)).item_queue_id);
    assert.equal(body.state, 'complete');
    assert.equal(body.display_name, 'raw_body.carto');
    assert.match(String(body.visualization_id), UUID);
  });

  it('creates no map unless create_vis is exactly "true" (carto-python sends "True")', async () => {
    const { body } = await importAndWait(cartoFile, 'no-vis.carto', { create_vis: 'True' });
    assert.equal(body.state, 'complete');
    assert.equal(body.create_visualization, false);
    assert.equal(body.visualization_id, null);
    assert.equal(body.derived_visualization_id, null);
    assert.equal(body.tables_created_count, 2);
  });

  it('validates privacy and collision_strategy with the server messages', async () => {
    const privacy = await upload(cartoFile, 'x.carto', { privacy: 'secret' });
    assert.equal(privacy.status, 400);
    assert.deepEqual(await json(privacy), {
      errors: {
        imports: "Unknown value 'secret' for 'privacy'. Allowed values are: private, public and link",
      },
    });
    const strategy = await upload(cartoFile, 'x.carto', { collision_strategy: 'replace' });
    assert.equal(strategy.status, 400);
    assert.deepEqual(await json(strategy), {
      errors: { imports: 'collision_strategy Invalid collision strategy' },
    });
  });

  it('presents fields in presenter order, with success and completion fields only where the reference says', async () => {
    const response = await upload(cartoFile, 'fields.carto', { create_vis: 'true' });
    const { item_queue_id: id } = await json(response);
    const pending = await json(await fetch(`${target}/api/v1/imports/${id}?api_key=target-key`));
    assert.deepEqual(Object.keys(pending), [
      'id',
      'user_id',
      'table_id',
      'data_type',
      'table_name',
      'state',
      'error_code',
      'queue_id',
      'tables_created_count',
      'synchronization_id',
      'type_guessing',
      'quoted_fields_guessing',
      'content_guessing',
      'create_visualization',
      'visualization_id',
      'user_defined_limits',
      'get_error_text',
      'display_name',
      'original_url',
      'warnings',
      'is_raster',
    ]);
    assert.equal(pending.user_defined_limits, '{"twitter_credits_limit":0}');
    assert.equal(pending.get_error_text, null);
    assert.equal(pending.error_code, null);
    assert.equal(pending.tables_created_count, null);
    const { body } = await finalState(id);
    assert.deepEqual(Object.keys(body).slice(-6), [
      'success',
      'original_url',
      'warnings',
      'is_raster',
      'any_table_raster',
      'derived_visualization_id',
    ]);
    assert.equal(body.any_table_raster, false);
  });

  it('answers 404 with an empty body for a non-UUID or unknown import id, for any authenticated user', async () => {
    for (const id of ['not-a-uuid', '11111111-1111-4111-8111-111111111111']) {
      const response = await fetch(`${target}/api/v1/imports/${id}?api_key=target-key`);
      assert.equal(response.status, 404, id);
      assert.equal(await response.text(), '', id);
    }
    const created = await json(await upload(cartoFile, 'visible.carto'));
    const byOtherUser = await fetch(
      `${running.accountUrl('demo')}/api/v1/imports/${created.item_queue_id}?api_key=demo-key`,
    );
    assert.equal(byOtherUser.status, 200);
  });
});

describe('import concurrency and listing', () => {
  it('lists unfinished imports and answers 429 beyond maxConcurrentImports', async () => {
    const running = await emulator({ importDuration: 1500, maxConcurrentImports: 2 });
    const target = running.accountUrl('target');
    try {
      const post = () => fetch(`${target}/api/v1/imports?api_key=target-key`, { method: 'POST' });
      const first = await json(await post());
      const second = await json(await post());
      const third = await post();
      assert.equal(third.status, 429);
      assert.equal(third.headers.get('retry-after'), null);
      assert.deepEqual(await json(third), {
        errors: { imports: "We're sorry but you're already using your allowed 2 import slots" },
      });
      const listed = await json(await fetch(`${target}/api/v1/imports/?api_key=target-key`));
      assert.deepEqual(listed, { imports: [second.item_queue_id, first.item_queue_id], success: true });
      const otherUser = await fetch(`${running.accountUrl('demo')}/api/v1/imports?api_key=demo-key`, {
        method: 'POST',
      });
      assert.equal(otherUser.status, 200);
      await pollUntil(
        `${target}/api/v1/imports/${first.item_queue_id}?api_key=target-key`,
        (body) => body.state === 'failure',
      );
      await pollUntil(
        `${target}/api/v1/imports/${second.item_queue_id}?api_key=target-key`,
        (body) => body.state === 'failure',
      );
      assert.deepEqual(await json(await fetch(`${target}/api/v1/imports?api_key=target-key`)), {
        imports: [],
        success: true,
      });
      assert.equal((await post()).status, 200);
    } finally {
      await running.close();
    }
  });
});
