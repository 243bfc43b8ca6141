// What users see in the Temporal Web UI: a running export found by its CartoPhase search attribute, its current details and its poll summaries.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startEmulator, type RunningEmulator } from '../../carto-emulator/emulator';
import { startExport } from '../../client/export-client';
import { progressQuery } from '../../contract/export-messages';
import { CartoPhase, SEARCH_ATTRIBUTES } from '../../contract/search-attributes';
import { startSeaweedS3 } from '../../local-stack/seaweedfs';
import { startTemporalDevServer } from '../../local-stack/temporal-dev-server';
import { loadWorkerConfig } from '../../worker/config';
import { createCartoFerryWorker } from '../../worker/create-worker';
import { installQuietRuntime } from '../support/quiet-runtime';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1400, height: 900 };
// The UI is a single-page app that fetches everything after load; on a busy 2-core CI machine that can take a while.
const UI_TIMEOUT_MS = 30_000;
const REPO = path.resolve(__dirname, '../..');
const DOCS = path.join(REPO, 'docs');
// The committed pictures are rewritten only on request (or when missing), so test runs leave the tree clean.
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOT === '1';
const S3 = { accessKeyId: 'ferry-ui-key', secretAccessKey: 'ferry-ui-secret' };
const BUCKET = 'carto-exports';

interface StackWithWebUi {
  uiUrl: string;
  client: Client;
  emulator: RunningEmulator;
  stop(): Promise<void>;
}

describe('the Temporal Web UI', () => {
  test('lists a running export under its CartoPhase and shows its current details and poll summaries', async (t) => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is missing at ${CHROMIUM}: run local-stack/install-chromium.sh (this test drives it headless).`,
    );
    const stack = await startStackWithWebUi();
    t.after(() => stack.stop());
    const browser = await launchChromium();
    t.after(() => browser.close());
    // Kept after the run: what this run's browser saw.
    const screenshots = mkdtempSync(path.join(tmpdir(), 'carto-ferry-web-ui-'));

    const map = stack.emulator.maps('demo').find((m) => m.type === 'derived');
    assert.ok(map, 'emulator has a derived map');
    const { workflowId, handle } = await startExport(stack.client, {
      source: { account: 'demo', visualizationId: map.id },
      destination: { bucket: BUCKET },
      polling: { initialInterval: '1s', maxInterval: '4s' },
    });
    // A few polls first, so the timeline has summaries to show.
    await waitUntil('three export polls', async () => (await handle.query(progressQuery)).polls >= 3);
    const query = `${CartoPhase.name}="exporting"`;
    await waitUntil(`${workflowId} in the visibility store under ${query}`, async () => {
      for await (const execution of stack.client.workflow.list({ query })) {
        if (execution.workflowId === workflowId) return true;
      }
      return false;
    });

    const page = await browser.context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    try {
      const workflowLink = page.getByRole('link', { name: workflowId, exact: true });

      // The list must apply the query from the URL, not show every workflow: another phase lists nothing.
      await page.goto(workflowListUrl(stack.uiUrl, `${CartoPhase.name}="done"`));
      await page.getByText('No Workflows Found').waitFor();
      assert.equal(await workflowLink.count(), 0, 'the export is not listed under CartoPhase="done"');

      await page.goto(workflowListUrl(stack.uiUrl, query));
      await workflowLink.waitFor();
      assert.equal(await workflowLink.count(), 1, `the export is listed under ${query}`);

      // Current details live on the User Metadata tab, rendered from markdown inside an iframe.
      await workflowLink.click();
      await page.getByTestId('user-metadata-tab').click();
      const currentDetails = page.locator('#user-metadata-current-details').contentFrame().locator('body');
      await currentDetails.filter({ hasText: /Phase:\s*exporting/ }).waitFor();
      await currentDetails.filter({ hasText: /CARTO export:\s*\S+\s*—\s*exporting/ }).waitFor();
      await currentDetails.filter({ hasText: `s3://${BUCKET}/demo/${map.id}/` }).waitFor();
      // The static summary set at start by the client library (rendered, like the details, inside a frame).
      const summaryText = `Export map ${map.id} of demo`;
      const summaryShown = async () => {
        for (const frame of page.frames()) {
          const text = await frame
            .locator('body')
            .innerText({ timeout: 1000 })
            .catch(() => '');
          if (text.includes(summaryText)) return true;
        }
        return false;
      };
      const summaryDeadline = Date.now() + UI_TIMEOUT_MS;
      while (!(await summaryShown())) {
        assert.ok(Date.now() < summaryDeadline, `the Web UI shows the summary "${summaryText}"`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await saveScreenshot(t, page, screenshots, 'web-ui.png');

      // Activity and timer summaries label the bars of the Timeline tab.
      await page.getByTestId('timeline-tab').click();
      const activitySummary = page.getByText(/checkExport • poll #\d+: export state/).first();
      const timerSummary = page.getByText(/export exporting after \d+ polls; next in \d+s/).first();
      await activitySummary.waitFor();
      await timerSummary.waitFor();
      await saveScreenshot(t, page, screenshots, 'web-ui-timeline.png');
    } catch (error) {
      // What the browser showed when the test gave up: the quickest way to see which UI change broke a selector.
      const file = path.join(screenshots, 'failure.png');
      await page.screenshot({ path: file }).then(
        () => t.diagnostic(`screenshot: ${file}`),
        () => undefined,
      );
      throw error;
    }
  });
});

function workflowListUrl(uiUrl: string, query: string): string {
  return `${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
}

/**
 * Saves what the browser shows into the test's temp folder, and into docs/ when asked to or when missing there.
 * The UI scrolls inside #content-wrapper, so Playwright's fullPage sees one viewport: the viewport grows instead.
 */
async function saveScreenshot(t: TestContext, page: Page, dir: string, name: string): Promise<void> {
  const contentHeight = await page.locator('#content-wrapper').evaluate((element) => element.scrollHeight);
  await page.setViewportSize({
    width: VIEWPORT.width,
    height: Math.min(Math.max(contentHeight, VIEWPORT.height), 1600),
  });
  const file = path.join(dir, name);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  await page.setViewportSize(VIEWPORT);
  t.diagnostic(`screenshot: ${file}`);
  const committed = path.join(DOCS, name);
  if (UPDATE_SCREENSHOTS || !existsSync(committed)) {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(file, committed);
    t.diagnostic(`screenshot: updated ${path.relative(REPO, committed)}`);
  }
}

/**
 * Debian's Chromium, headless: playwright-core cannot download its own browser here. A non-persistent
 * browser, so Playwright removes its temporary profile itself once the process has exited (removing a
 * persistent profile on 'close' raced Chromium's last writes).
 */
async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: VIEWPORT });
  return { context, close: () => browser.close() };
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The real stack as `test/support/real-stack.ts` builds it, but with the Web UI and an export that never finishes. */
async function startStackWithWebUi(): Promise<StackWithWebUi> {
  installQuietRuntime();
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch(() => undefined);
  };
  try {
    const temporal = await startTemporalDevServer({ searchAttributes: { ...SEARCH_ATTRIBUTES } });
    stoppers.push(() => temporal.stop());
    assert.ok(temporal.uiUrl, 'the dev server runs its Web UI');
    const seaweed = await startSeaweedS3({ buckets: [BUCKET], ...S3 });
    stoppers.push(() => seaweed.stop());
    // Stuck in `exporting`: the export is still running, with details and timers to show, whenever the browser looks.
    const emulator = await startEmulator({ faults: [{ endpoint: 'export.create', fault: 'exportStuck' }] });
    stoppers.push(() => emulator.close());

    const config = loadWorkerConfig({
      TEMPORAL_ADDRESS: temporal.address,
      S3_ENDPOINT: seaweed.endpoint,
      AWS_ACCESS_KEY_ID: S3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3.secretAccessKey,
      CARTO_FERRY_BUCKET: BUCKET,
      CARTO_ACCOUNTS: JSON.stringify({ demo: { baseUrl: emulator.accountUrl('demo'), apiKey: 'demo-key' } }),
    });
    const connection = await Connection.connect({ address: temporal.address });
    stoppers.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });

    const nativeConnection = await NativeConnection.connect({ address: temporal.address });
    stoppers.push(() => nativeConnection.close());
    const { worker, close } = await createCartoFerryWorker(config, {
      connection: nativeConnection,
    });
    const running = worker.run();
    stoppers.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await close();
    });

    return { uiUrl: temporal.uiUrl, client, emulator, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
