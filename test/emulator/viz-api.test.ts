// Conformance of the emulated map listing, GET /api/v1/viz and /api/v1/viz/:id_or_name, to what backups rely on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../carto-emulator/emulator';
import { emulator, json } from './emulator-fixtures';

describe('visualization listing', () => {
  let running: RunningEmulator;
  let base: string;
  before(async () => {
    running = await emulator({ maps: 5 });
    base = running.accountUrl('demo');
  });
  after(() => running.close());

  const list = async (query: string) => {
    const response = await fetch(`${base}/api/v1/viz?${query}`);
    return { status: response.status, body: await json(response) };
  };

  it('lists the owner its derived maps by default, newest first, with totals and upper-case privacy', async () => {
    const { status, body } = await list('api_key=demo-key');
    assert.equal(status, 200);
    assert.equal(body.total_entries, 5);
    assert.equal(body.total_user_entries, 5);
    const items = body.visualizations as Record<string, unknown>[];
    assert.deepEqual(
      items.map((item) => item.type),
      ['derived', 'derived', 'derived', 'derived', 'derived'],
    );
    assert.deepEqual(
      items.map((item) => item.name),
      ['Flood risk 5', 'Sales territories 4', 'Customer visits 3', 'Delivery zones 2', 'Store locations 1'],
    );
    assert.deepEqual(items.map((item) => item.privacy).sort(), [
      'LINK',
      'PRIVATE',
      'PUBLIC',
      'PUBLIC',
      'PUBLIC',
    ]);
    for (const key of [
      'id',
      'name',
      'map_id',
      'type',
      'privacy',
      'created_at',
      'updated_at',
      'permission',
      'table',
    ]) {
      assert.ok(key in items[0], key);
    }
  });

  it('shows anonymous callers only the public maps and no owner totals', async () => {
    const { body } = await list('');
    assert.equal(body.total_entries, 3);
    assert.ok((body.visualizations as { privacy: string }[]).every((item) => item.privacy === 'PUBLIC'));
    assert.equal('total_user_entries' in body, false);
  });

  it('pages with type=derived&exclude_shared=true&page=N until total_entries, as carto-python does', async () => {
    const seen: string[] = [];
    let total = Infinity;
    for (let page = 1; seen.length < total; page += 1) {
      const { body } = await list(
        `api_key=demo-key&type=derived&exclude_shared=true&page=${page}&per_page=2`,
      );
      total = Number(body.total_entries);
      const ids = (body.visualizations as { id: string }[]).map((item) => item.id);
      assert.ok(ids.length > 0 && ids.length <= 2);
      seen.push(...ids);
    }
    assert.deepEqual(
      seen.sort(),
      running
        .maps('demo')
        .filter((map) => map.type === 'derived')
        .map((map) => map.id)
        .sort(),
    );
  });

  it('lists datasets with type=table, each presenting its user table id', async () => {
    const { body } = await list('api_key=demo-key&types=table');
    const datasets = running.maps('demo').filter((map) => map.type === 'table');
    assert.equal(body.total_entries, datasets.length);
    const tables = (body.visualizations as { id: string; table: { id: string } }[]).map((item) => [
      item.id,
      item.table.id,
    ]);
    assert.deepEqual(tables.sort(), datasets.map((dataset) => [dataset.id, dataset.tableIds[0]]).sort());
  });

  it('answers bad paging and ordering parameters with 400 and the singular "error" key', async () => {
    assert.deepEqual(await list('api_key=demo-key&page=0'), {
      status: 400,
      body: { error: "Wrong 'page' parameter value." },
    });
    assert.deepEqual(await list('api_key=demo-key&per_page=abc'), {
      status: 400,
      body: { error: "Wrong 'per_page' parameter value." },
    });
    const order = await list('api_key=demo-key&order=popularity');
    assert.equal(order.status, 400);
    assert.equal(
      order.body.error,
      "Wrong 'order' parameter value. Valid values are one of [:name, :updated_at, :size, :mapviews, :favorited, :estimated_row_count, :privacy, :dependent_visualizations]",
    );
  });

  it('shows one visualization by id or by name, and refuses private ones to strangers', async () => {
    const map = running
      .maps('demo')
      .find((candidate) => candidate.type === 'derived' && candidate.privacy === 'PRIVATE');
    assert.ok(map);
    const byId = await fetch(`${base}/api/v1/viz/${map.id}?api_key=demo-key`);
    assert.equal(byId.status, 200);
    assert.equal((await json(byId)).name, map.name);
    const byName = await fetch(`${base}/api/v1/viz/${encodeURIComponent(map.name)}?api_key=demo-key`);
    assert.equal((await json(byName)).id, map.id);
    const anonymous = await fetch(`${base}/api/v1/viz/${map.id}`);
    assert.equal(anonymous.status, 403);
    assert.deepEqual(await json(anonymous), { errors: 'Visualization not viewable', errors_cause: null });
    const missing = await fetch(`${base}/api/v1/viz/00000000-0000-4000-8000-000000000000`);
    assert.equal(missing.status, 404);
  });
});
