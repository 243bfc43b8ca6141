// The worker's cached workflow bundle: named by its sources, so an edit to the workflow code never runs a stale bundle.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sourcesFingerprint, workflowBundlePath } from '../../worker/workflow-bundle';

function projectTree(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'ferry-bundle-'));
  for (const dir of ['workflows', 'contract', 'activities']) mkdirSync(path.join(root, dir));
  writeFileSync(path.join(root, 'workflows', 'export.ts'), 'export const a = 1;\n');
  writeFileSync(path.join(root, 'contract', 'types.ts'), 'export type T = string;\n');
  writeFileSync(path.join(root, 'activities', 'copy.ts'), 'export const c = 1;\n');
  writeFileSync(path.join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
  return root;
}

describe('workflow bundle', () => {
  test('its fingerprint changes with the workflow code, the contract and the lockfile, and nothing else', async () => {
    const root = projectTree();
    const first = await sourcesFingerprint(root);
    assert.equal(await sourcesFingerprint(root), first, 'stable for the same sources');

    writeFileSync(path.join(root, 'activities', 'copy.ts'), 'export const c = 2;\n');
    assert.equal(await sourcesFingerprint(root), first, 'activities are not in the bundle');

    const edits: [string, string][] = [
      ['workflows/export.ts', 'export const a = 2;\n'],
      ['workflows/new-helper.ts', 'export const b = 1;\n'],
      ['contract/types.ts', 'export type T = number;\n'],
      ['package-lock.json', '{"lockfileVersion":3,"packages":{}}\n'],
    ];
    const seen = new Set([first]);
    for (const [file, content] of edits) {
      writeFileSync(path.join(root, file), content);
      const next = await sourcesFingerprint(root);
      assert.ok(!seen.has(next), `editing ${file} names a new bundle`);
      seen.add(next);
    }
  });

  test('is built once for the current sources and reused after', async () => {
    const codePath = await workflowBundlePath();
    assert.match(path.basename(codePath), new RegExp(`^workflows-${await sourcesFingerprint()}\\.js$`));
    assert.match(readFileSync(codePath, 'utf8'), /exportVisualization/);
    const builtAt = statSync(codePath).mtimeMs;
    assert.equal(await workflowBundlePath(), codePath);
    assert.equal(statSync(codePath).mtimeMs, builtAt, 'not rebuilt');
  });
});
