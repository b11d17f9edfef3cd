// `npm run bench:web`: images/s of the shipped generator at batch 16 in Chromium, through
// @gantry/inference-web, on WebAssembly with 1 thread, with 2 threads (the page cross-origin isolated) and on
// WebGPU (SwiftShader, a software adapter), beside onnxruntime-node on 1 thread, in one run; then how long
// the explorer takes to show its first pictures on a warm cache. onnxruntime-node on 2 threads is printed
// too: on a busy machine a second thread can slow native code down as well, and this shows it.
//   options: --model DIR (default models/mnist-dcgan), --seconds S per measurement (default 3), --batch N (16)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { copyModels } from '@gantry/inference-web/build-site';
import { BLANK_PAGE, launchChromium, startStaticServer } from '@gantry/inference-web/testing';
import { createSession } from '@gantry/inference-node';
import { generateLatents, parseCard } from '@gantry/core';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: { model: { type: 'string', default: join(repoRoot, 'models', 'mnist-dcgan') }, seconds: { type: 'string', default: '3' }, batch: { type: 'string', default: '16' } },
});
const modelDir = resolve(args.model);
const seconds = Number(args.seconds);
const batch = Number(args.batch);
const modelName = basename(modelDir);
const card = parseCard(JSON.parse(readFileSync(join(modelDir, 'card.json'), 'utf8')));

interface Measured {
  imagesPerSecond: number;
  backend: string;
  threads: number;
}

async function nodeImagesPerSecond(threads = 1): Promise<number> {
  const session = await createSession(join(modelDir, card.onnx.file), { device: 'cpu', intraOpThreads: threads, inputName: card.onnx.inputName, outputName: card.onnx.outputName });
  try {
    const latents = generateLatents(card.latent, { n: batch, seed: 1 });
    for (let i = 0; i < 5; i++) await session.run(latents, batch);
    let runs = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      await session.run(latents, batch);
      runs++;
    }
    return (runs * batch) / ((performance.now() - started) / 1000);
  } finally {
    await session.release();
  }
}

async function browserImagesPerSecond(browser: Browser, url: string, device: 'wasm' | 'webgpu', threads: number): Promise<Measured> {
  // A fresh context per configuration: onnxruntime-web fixes its thread count when it first starts.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(new URL(BLANK_PAGE, url).href);
    return await page.evaluate(
      async ({ model, device, threads, batch, seconds }) => {
        const { Generator } = (await import(new URL('gantry-web.js', location.href).href)) as typeof import('@gantry/inference-web');
        const generator = await Generator.load(`models/${encodeURIComponent(model)}/`, { device, threads, batchSize: batch, cache: false });
        const latents = generator.latents({ n: batch, seed: 1 });
        for (let i = 0; i < 5; i++) await generator.run(latents);
        let runs = 0;
        const started = performance.now();
        while (performance.now() - started < seconds * 1000) {
          await generator.run(latents);
          runs++;
        }
        const imagesPerSecond = (runs * batch) / ((performance.now() - started) / 1000);
        await generator.release();
        return { imagesPerSecond, backend: generator.backend, threads: generator.backendChoice.threads };
      },
      { model: modelName, device, threads, batch, seconds },
    );
  } finally {
    await context.close();
  }
}

/** Seconds from navigation to the explorer's first pictures, on a second visit (model and runtime cached). */
async function firstImageWarm(browser: Browser, url: string): Promise<{ cold: number; warm: number }> {
  const context = await browser.newContext();
  try {
    const visit = async (): Promise<number> => {
      const page = await context.newPage();
      await page.goto(`${url}?model=${encodeURIComponent(modelName)}&device=auto`);
      await page.waitForFunction(() => performance.getEntriesByName('gantry:first-image').length > 0, null, { timeout: 120_000 });
      const ms = await page.evaluate(() => performance.getEntriesByName('gantry:first-image')[0]!.startTime);
      await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 120_000 });
      await page.close();
      return ms / 1000;
    };
    const cold = await visit();
    return { cold, warm: await visit() };
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  const models = mkdtempSync(join(tmpdir(), 'gantry-bench-web-'));
  copyModels(dirname(modelDir), models);
  const server = await startStaticServer({ models });
  const browser = await launchChromium();
  try {
    console.log(`model ${card.name}, batch ${batch}, ${seconds} s per measurement, Chromium ${browser.version()}`);
    const node1 = await nodeImagesPerSecond();
    const rows: [string, number][] = [['onnxruntime-node, 1 thread', node1]];
    for (const [label, device, threads] of [
      ['chromium wasm, 1 thread', 'wasm', 1],
      ['chromium wasm, 2 threads (cross-origin isolated)', 'wasm', 2],
      ['chromium webgpu (SwiftShader)', 'webgpu', 1],
    ] as const) {
      const measured = await browserImagesPerSecond(browser, server.url, device, threads);
      if (measured.backend !== device) throw new Error(`${label}: ran on ${measured.backend}`);
      rows.push([label, measured.imagesPerSecond]);
    }
    const node1After = await nodeImagesPerSecond();
    rows.push(['onnxruntime-node, 1 thread (again, after)', node1After]);
    // How much a second thread gives natively on this machine right now: the yardstick for wasm's second thread.
    rows.push(['onnxruntime-node, 2 threads', await nodeImagesPerSecond(2)]);
    const nodeMean = (node1 + node1After) / 2;
    for (const [label, rate] of rows) console.log(`${label.padEnd(52)} ${rate.toFixed(0).padStart(7)} img/s  ${(rate / nodeMean).toFixed(2)}× node 1 thread`);
    const first = await firstImageWarm(browser, server.url);
    console.log(`explorer first pictures: ${first.cold.toFixed(2)} s on a cold cache, ${first.warm.toFixed(2)} s on a warm cache (target ≤ 2 s)`);
    const twoThreads = rows[2]![1] / nodeMean;
    console.log(`wasm 2 threads / node 1 thread = ${twoThreads.toFixed(2)} (target ≥ 0.5); a second thread gives wasm ×${(rows[2]![1] / rows[1]![1]).toFixed(2)}, node ×${(rows[5]![1] / nodeMean).toFixed(2)}`);
  } finally {
    await browser.close();
    await server.close();
    rmSync(models, { recursive: true, force: true });
  }

}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
