// URL forms (prefixes, trailing slashes, subdomains), Rails-like 404s, and both ways of passing the master key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../carto-emulator/emulator';
import { basic, emulator, getWithHost, json, seededMap } from './emulator-fixtures';

describe('routing and authentication', () => {
  let running: RunningEmulator;
  before(async () => {
    running = await emulator();
  });
  after(() => running.close());

  it('serves the same account under /user/<u>, /u/<u> and a <u>.host subdomain, with or without trailing slash', async () => {
    const paths = [
      `${running.url}/user/demo/api/v1/viz?api_key=demo-key`,
      `${running.url}/u/demo/api/v1/viz/?api_key=demo-key`,
      `${running.url}/user/demo/api/v1/viz.json?api_key=demo-key`,
    ];
    const totals = [];
    for (const url of paths) {
      const response = await fetch(url);
      assert.equal(response.status, 200, url);
      totals.push((await json(response)).total_user_entries);
    }
    const port = new URL(running.url).port;
    const bySubdomain = await getWithHost(
      `${running.url}/api/v1/viz/?api_key=demo-key`,
      `demo.localhost:${port}`,
    );
    assert.equal(bySubdomain.status, 200);
    totals.push(JSON.parse(bySubdomain.body).total_user_entries);
    assert.deepEqual(totals, [3, 3, 3, 3]);
  });

  it('answers unknown users, unknown routes and a missing user with a Rails JSON 404', async () => {
    for (const url of [
      `${running.url}/user/nobody/api/v1/viz`,
      `${running.url}/user/demo/api/v2/visualization_exports`,
      `${running.url}/api/v1/viz`,
    ]) {
      const response = await fetch(url);
      assert.equal(response.status, 404, url);
      assert.deepEqual(await json(response), { status: 404, error: 'Not Found' }, url);
    }
    const wrongMethod = await fetch(`${running.url}/user/demo/api/v3/visualization_exports/x`, {
      method: 'DELETE',
    });
    assert.equal(wrongMethod.status, 404);
  });

  it('authenticates with HTTP Basic only when the username is the URL user', async () => {
    const map = seededMap(running);
    const post = (account: string, authorization: string) =>
      fetch(`${running.accountUrl(account)}/api/v3/visualization_exports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ visualization_id: map.id }),
      });
    const asDemo = await json(await post('demo', basic('demo', 'demo-key')));
    assert.notEqual(asDemo.user_id, null);
    const mismatched = await json(await post('target', basic('demo', 'demo-key')));
    assert.equal(mismatched.user_id, null);
    const imports = await fetch(`${running.accountUrl('target')}/api/v1/imports`, {
      headers: { authorization: basic('demo', 'demo-key') },
    });
    assert.equal(imports.status, 401);
    const ownImports = await fetch(`${running.accountUrl('target')}/api/v1/imports`, {
      headers: { authorization: basic('target', 'target-key') },
    });
    assert.equal(ownImports.status, 200);
  });

  it('reads api_key from a JSON body, a form body and the query string', async () => {
    const map = seededMap(running);
    const url = `${running.accountUrl('demo')}/api/v3/visualization_exports`;
    const viaJson = await json(
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ visualization_id: map.id, api_key: 'demo-key' }),
      }),
    );
    const viaForm = await json(
      await fetch(url, {
        method: 'POST',
        body: new URLSearchParams({ visualization_id: map.id, api_key: 'demo-key' }),
      }),
    );
    const viaQuery = await json(
      await fetch(`${url}?visualization_id=${map.id}&api_key=demo-key`, { method: 'POST' }),
    );
    assert.equal(viaJson.user_id, viaQuery.user_id);
    assert.equal(viaForm.user_id, viaQuery.user_id);
    assert.notEqual(viaQuery.user_id, null);
  });

  it('wraps render_jsonp responses in a valid callback and refuses an invalid one', async () => {
    const map = seededMap(running);
    const base = `${running.accountUrl('demo')}/api/v3/visualization_exports?visualization_id=${map.id}`;
    const wrapped = await fetch(`${base}&callback=handle`, { method: 'POST' });
    assert.equal(wrapped.status, 201);
    assert.match(await wrapped.text(), /^\/\*\*\/handle\(\{"id":"/);
    const invalid = await fetch(`${base}&callback=alert(1)`, { method: 'POST' });
    assert.equal(invalid.status, 400);
    assert.deepEqual(await json(invalid), { errors: { callback: 'Invalid callback format' } });
  });
});
