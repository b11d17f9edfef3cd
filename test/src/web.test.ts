// The explorer page and the browser library in real Chromium, on WebAssembly and on WebGPU (SwiftShader):
// the same seeds give onnxruntime-node's pictures, the walk slider moves the picture, the arithmetic panel
// draws, nothing is logged as an error; screenshots at laptop and phone size go to test/artifacts/. A second
// visit reads the model from the Cache API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parseCard, planArithmetic, planInterpolation, seedLatents } from '@gantry/core';
import { launchChromium, siteDir, startStaticServer } from '@gantry/inference-web/testing';
import { repoRoot, startGantry } from './cli.js';
import { PHONE, maxAbsDifference, nodeReference, openExplorer, samplesInPage, screenshot } from './web-support.js';

const MODEL = 'mnist-dcgan';
const modelDir = join(repoRoot, 'models', MODEL);
const card = parseCard(JSON.parse(readFileSync(join(modelDir, 'card.json'), 'utf8')));
const SEEDS = [7, 0, 123456789, 4294967295];

async function canvasPixels(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (canvas) => (canvas as HTMLCanvasElement).toDataURL());
}

for (const device of ['wasm', 'webgpu'] as const) {
  const checks = "node's pictures for the same seeds, a live slider, arithmetic, no console errors";
  test(`explorer and library on ${device}: ${checks}`, async (t) => {
    const server = await startStaticServer();
    t.after(() => server.close());
    const browser = await launchChromium();
    t.after(() => browser.close());
    const { page, errors } = await openExplorer(browser, server.url, `model=${MODEL}&device=${device}`);
    assert.ok(await page.evaluate(() => crossOriginIsolated), 'the test server makes the page cross-origin isolated');
    const status = (await page.textContent('#status')) ?? '';
    assert.match(status, device === 'webgpu' ? /WebGPU/ : /wasm · \d+ threads?/);
    assert.match(status, /ms\/(image|frame)/);

    // The library, as a page would use it: seeds → the same latents and pictures as onnxruntime-node.
    const inPage = await samplesInPage(page, MODEL, device, { seeds: SEEDS });
    assert.equal(inPage.backend, device);
    // Load progress: card, download (from the cache here: the page loaded the model already), runtime, ready.
    const stages = inPage.progress.map((p) => p.stage).filter((stage, i, all) => stage !== all[i - 1]);
    assert.deepEqual(stages, ['card', 'download', 'runtime', 'ready']);
    assert.ok(
      inPage.progress.every((p, i, all) => i === 0 || p.fraction >= all[i - 1]!.fraction),
      'progress only grows',
    );
    assert.equal(inPage.progress.at(-1)!.fraction, 1);
    const latents = seedLatents(card.latent, SEEDS);
    assert.deepEqual(inPage.latents, Array.from(latents), 'seeded latents are bit-identical to Node');
    const reference = await nodeReference(join(modelDir, card.onnx.file), card, latents);
    const difference = maxAbsDifference(inPage.values, reference);
    t.diagnostic(`${device}: max abs difference from onnxruntime-node ${difference.toExponential(2)} over ${SEEDS.length} seeds`);
    assert.ok(difference <= 1e-3, `${device} differs from onnxruntime-node by ${difference}`);

    // interpolate and arithmetic mean what core's plans mean: node renders the plans' latents alike.
    const walkAndSum = await page.evaluate(async (device) => {
      const { Generator } = (await import(
        new URL('gantry-web.js', location.href).href
      )) as typeof import('@gantry/inference-web');
      const generator = await Generator.load('models/mnist-dcgan/', { device });
      const walk = await generator.interpolate({ seeds: [7, 8, 9], steps: 4, method: 'slerp', loop: true });
      const sum = await generator.arithmetic([
        { coef: 1, seeds: [1, 2] },
        { coef: -1, seeds: [3] },
        { coef: 1, seeds: [4, 5, 6] },
      ]);
      await generator.release();
      return { walk: Array.from(walk.samples.values), frames: walk.frames, sum: Array.from(sum.samples.values) };
    }, device);
    const walkPlan = planInterpolation(card.latent, { seeds: [7, 8, 9], steps: 4, method: 'slerp', loop: true });
    assert.equal(walkAndSum.frames, 9);
    const sumPlan = planArithmetic(card.latent, [
      { coef: 1, seeds: [1, 2] },
      { coef: -1, seeds: [3] },
      { coef: 1, seeds: [4, 5, 6] },
    ]);
    const sumRows = new Float32Array([...sumPlan.termMeans, ...sumPlan.result]);
    const onnxPath = join(modelDir, card.onnx.file);
    assert.ok(
      maxAbsDifference(walkAndSum.walk, await nodeReference(onnxPath, card, walkPlan.latents)) <= 1e-3,
      'interpolate differs from node',
    );
    assert.ok(
      maxAbsDifference(walkAndSum.sum, await nodeReference(onnxPath, card, sumRows)) <= 1e-3,
      'arithmetic differs from node',
    );

    // Moving the slider draws another picture.
    const before = await canvasPixels(page, '#frame');
    await page.$eval('#slider', (slider) => {
      (slider as HTMLInputElement).value = '400';
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('#frame')!.dataset.position === '0.4000', null, {
      timeout: 60_000,
    });
    assert.notEqual(await canvasPixels(page, '#frame'), before, 'the walk frame changed with the slider');
    // Play walks on by itself; pause stops it.
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('#frame')!.dataset.position) > 0.41, null, {
      timeout: 60_000,
    });
    await page.click('#play');
    assert.equal(await page.getAttribute('#play', 'aria-label'), 'play');

    // Arithmetic: put the 8th sample into group B as well, and the result is drawn again.
    await page.click('#tools [data-tool="B"]');
    await page.evaluate(() => delete document.querySelector<HTMLCanvasElement>('#result')!.dataset.ready);
    await page.click('#grid .cell:nth-child(8)');
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('#result')!.dataset.ready === 'true', null, {
      timeout: 60_000,
    });
    assert.match((await page.textContent('.term[data-group="B"]')) ?? '', /B/);
    assert.equal(await page.$$eval('.term[data-group="B"] .members canvas', (list) => list.length), 2);
    const distinctLevels = await page.$eval('#result', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      return new Set(Array.from(data.filter((_, i) => i % 4 === 0))).size;
    });
    assert.ok(distinctLevels > 10, `the arithmetic result is a picture (${distinctLevels} grey levels)`);
    await page.click('#tools [data-tool="pin"]');

    t.diagnostic(`screenshot: ${await screenshot(page, `web-${device}-laptop`)}`);
    if (device === 'wasm') {
      await page.emulateMedia({ colorScheme: 'dark' });
      t.diagnostic(`screenshot: ${await screenshot(page, `web-${device}-laptop-dark`)}`);
      const phone = await openExplorer(browser, server.url, `model=${MODEL}&device=${device}`, PHONE);
      await phone.page.emulateMedia({ colorScheme: 'dark' });
      t.diagnostic(`screenshot: ${await screenshot(phone.page, `web-${device}-phone-dark`)}`);
      await phone.page.emulateMedia({ colorScheme: 'light' });
      t.diagnostic(`screenshot: ${await screenshot(phone.page, `web-${device}-phone`)}`);
      assert.deepEqual(phone.errors, [], 'no console errors on the phone-sized page');
    }
    assert.deepEqual(errors, [], 'no console errors');
  });
}

test('a warm cache, without cross-origin isolation: the model comes from the Cache API, on 1 thread', async (t) => {
  const server = await startStaticServer({ isolated: false });
  t.after(() => server.close());
  const browser = await launchChromium({ webgpu: false });
  t.after(() => browser.close());
  const context = await browser.newContext();
  const first = await context.newPage();
  await first.goto(`${server.url}?model=${MODEL}&device=wasm`);
  await first.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
  const onnxRequests = (): number => server.requests.filter((path) => path.endsWith(card.onnx.file)).length;
  assert.equal(onnxRequests(), 1);
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(`${server.url}?model=${MODEL}&device=wasm`);
  await page.waitForFunction(
    () => document.querySelector('#grid canvas') !== null && document.body.dataset.state === 'ready',
    null,
    { timeout: 60_000 },
  );
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`first picture ${seconds.toFixed(2)} s after navigation on a warm cache`);
  assert.equal(onnxRequests(), 1, 'the ONNX file came from the cache, not the server');
  const about = (await page.textContent('#about')) ?? '';
  assert.match(about, /model from cache/);
  assert.match(about, /1 thread: the page is not cross-origin isolated/);
  // The 2 s target is measured by `npm run bench:web`, not asserted here: a loaded machine is no regression.
});

test('gantry serve --site serves the explorer at /, cross-origin isolated, with its models', async (t) => {
  const server = await startGantry(
    ['serve', '--models', 'models', '--site', siteDir, '--port', '0', '--device', 'cpu'],
    /serving \d+ model\(s\) at (http:\/\/\S+)/,
  );
  t.after(() => server.child.kill('SIGKILL'));
  const browser = await launchChromium({ webgpu: false });
  t.after(() => browser.close());
  const { page, errors } = await openExplorer(browser, `${server.match[1]!}/`, `model=${MODEL}&device=wasm`);
  assert.ok(await page.evaluate(() => crossOriginIsolated), 'gantry serve sends COOP/COEP');
  assert.match((await page.textContent('#status')) ?? '', /wasm · \d+ threads?/);
  assert.equal(await page.$$eval('#grid canvas', (canvases) => canvases.length), 16);
  assert.deepEqual(errors, [], 'no console errors');
});
