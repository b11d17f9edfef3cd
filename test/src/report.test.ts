// `gantry report` on the shipped mnist-conditional run opens in Chromium without a console error; the test
// keeps a screenshot in test/artifacts/report.png for people to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { repoRoot, runGantry } from './cli.js';

const CHROMIUM = '/usr/bin/chromium';
const shippedRun = join(repoRoot, 'models', 'mnist-conditional', 'run');
const artifacts = join(repoRoot, 'test', 'artifacts');

const hasChromium = await access(CHROMIUM).then(
  () => true,
  () => false,
);

test('gantry report of the shipped run renders its charts and slider in Chromium with no console error', {
  skip: hasChromium ? false : `no ${CHROMIUM}`,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-report-'));
  try {
    const out = join(dir, 'report.html');
    const result = await runGantry(['report', shippedRun, '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      // Offline: any request leaving the file would be a missing inline asset.
      page.on('request', (request) => {
        if (!request.url().startsWith('file:') && !request.url().startsWith('data:'))
          problems.push(`network request: ${request.url()}`);
      });
      await page.goto(pathToFileURL(out).href);
      await page.waitForSelector('.uplot canvas');
      const charts = await page.locator('.uplot').count();
      assert.ok(charts >= 3, `expected loss, D-output and gradient-norm charts at least; found ${charts}`);
      const frames = Number(await page.locator('#frame').getAttribute('max')) + 1;
      assert.ok(frames >= 2, `expected several sample grids on the slider; found ${frames}`);
      const lastStep = await page.locator('#frame-step').textContent();
      await page.locator('#frame').fill('0');
      assert.match((await page.locator('#frame-step').textContent()) ?? '', /^step 0$/, 'the slider moves to the first grid');
      assert.notEqual(lastStep, 'step 0', 'the page opens on the newest grid');
      assert.match((await page.locator('#grid').getAttribute('src')) ?? '', /^data:image\/png;base64,/);
      await page.locator('#frame').fill(String(frames - 1));
      await mkdir(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
