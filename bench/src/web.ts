// `npm run bench:web`: images/s of the shipped generator at batch 16 in Chromium, through
// @gantry/inference-web, on WebAssembly with 1 thread, with 2 threads (the page cross-origin isolated) and on
// WebGPU (SwiftShader, a software adapter), beside onnxruntime-node on 1 thread, in one run; then how long
// the explorer takes to show its first pictures on a warm cache. The configurations are measured in
// interleaved slices over several rounds and reported as medians, so a machine whose load changes during
// the run shifts them all alike. onnxruntime-node on 2 threads is printed too: on a busy machine a second
// thread can slow native code down as well, and this shows it.
//   options: --model DIR (default models/mnist-dcgan), --rounds N (5), --seconds S per slice (1.5), --batch N (16)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { copyModels } from '@gantry/inference-web/build-site';
import { BLANK_PAGE, launchChromium, startStaticServer } from '@gantry/inference-web/testing';
import { createSession, type GeneratorSession } from '@gantry/inference-node';
import { generateLatents, parseCard } from '@gantry/core';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: join(repoRoot, 'models', 'mnist-dcgan') },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '1.5' },
    batch: { type: 'string', default: '16' },
  },
});
const modelDir = resolve(args.model);
const modelName = basename(modelDir);
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const batch = Number(args.batch);
const card = parseCard(JSON.parse(readFileSync(join(modelDir, 'card.json'), 'utf8')));

/** One configuration: measures images/s over one slice of `seconds`. */
interface Contender {
  label: string;
  measure(): Promise<number>;
  close(): Promise<void>;
}

async function nodeContender(threads: number): Promise<Contender> {
  const session: GeneratorSession = await createSession(join(modelDir, card.onnx.file), {
    device: 'cpu',
    intraOpThreads: threads,
    inputName: card.onnx.inputName,
    outputName: card.onnx.outputName,
  });
  const latents = generateLatents(card.latent, { n: batch, seed: 1 });
  for (let i = 0; i < 5; i++) await session.run(latents, batch);
  return {
    label: `onnxruntime-node, ${threads} thread${threads === 1 ? '' : 's'}`,
    async measure() {
      let runs = 0;
      const started = performance.now();
      while (performance.now() - started < seconds * 1000) {
        await session.run(latents, batch);
        runs++;
      }
      return (runs * batch) / ((performance.now() - started) / 1000);
    },
    close: () => session.release(),
  };
}

interface PageBench {
  run(seconds: number): Promise<number>;
}

async function browserContender(
  browser: Browser,
  url: string,
  label: string,
  device: 'wasm' | 'webgpu',
  threads: number,
): Promise<Contender> {
  // A context per configuration: onnxruntime-web fixes its thread count when it first starts in a page.
  const context = await browser.newContext();
  const page: Page = await context.newPage();
  await page.goto(new URL(BLANK_PAGE, url).href);
  const backend = await page.evaluate(
    async ({ model, device, threads, batch }) => {
      const { Generator } = (await import(
        new URL('gantry-web.js', location.href).href
      )) as typeof import('@gantry/inference-web');
      const generator = await Generator.load(`models/${encodeURIComponent(model)}/`, {
        device,
        threads,
        batchSize: batch,
        cache: false,
      });
      const latents = generator.latents({ n: batch, seed: 1 });
      for (let i = 0; i < 5; i++) await generator.run(latents);
      const bench: PageBench = {
        async run(seconds: number) {
          let runs = 0;
          const started = performance.now();
          while (performance.now() - started < seconds * 1000) {
            await generator.run(latents);
            runs++;
          }
          return (runs * batch) / ((performance.now() - started) / 1000);
        },
      };
      (globalThis as { gantryBench?: PageBench }).gantryBench = bench;
      return `${generator.backend} ${generator.backendChoice.threads}`;
    },
    { model: modelName, device, threads, batch },
  );
  if (backend !== `${device} ${threads}`) throw new Error(`${label}: ran on ${backend}`);
  return {
    label,
    measure: () => page.evaluate((s) => (globalThis as unknown as { gantryBench: PageBench }).gantryBench.run(s), seconds),
    close: () => context.close(),
  };
}

/** Seconds from navigation to the explorer's first pictures: a first visit, then a second one (cached). */
async function firstPictures(browser: Browser, url: string): Promise<{ cold: number; warm: number }> {
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const models = mkdtempSync(join(tmpdir(), 'gantry-bench-web-'));
  copyModels(dirname(modelDir), models);
  const server = await startStaticServer({ models });
  const browser = await launchChromium();
  const contenders: Contender[] = [];
  try {
    console.log(`model ${modelName}, batch ${batch}, ${rounds} rounds of ${seconds} s slices, Chromium ${browser.version()}`);
    contenders.push(await nodeContender(1));
    contenders.push(await browserContender(browser, server.url, 'chromium wasm, 1 thread', 'wasm', 1));
    contenders.push(await browserContender(browser, server.url, 'chromium wasm, 2 threads (cross-origin isolated)', 'wasm', 2));
    contenders.push(await browserContender(browser, server.url, 'chromium webgpu (SwiftShader)', 'webgpu', 1));
    contenders.push(await nodeContender(2));
    const rates = contenders.map(() => [] as number[]);
    for (let round = 0; round < rounds; round++) {
      for (const [i, contender] of contenders.entries()) rates[i]!.push(await contender.measure());
    }
    const medians = rates.map(median);
    const node1 = medians[0]!;
    for (const [i, contender] of contenders.entries()) {
      const spread = `${Math.min(...rates[i]!).toFixed(0)}–${Math.max(...rates[i]!).toFixed(0)}`;
      console.log(
        `${contender.label.padEnd(50)} ${medians[i]!.toFixed(0).padStart(7)} img/s (${spread})  ` +
          `${(medians[i]! / node1).toFixed(2)}× node 1 thread`,
      );
    }
    console.log(
      `wasm 2 threads / node 1 thread = ${(medians[2]! / node1).toFixed(2)} (target ≥ 0.5); ` +
        `a second thread gives wasm ×${(medians[2]! / medians[1]!).toFixed(2)}, node ×${(medians[4]! / node1).toFixed(2)}`,
    );
    for (const contender of contenders.splice(0)) await contender.close();
    const first = await firstPictures(browser, server.url);
    console.log(
      `explorer first pictures (device auto): ${first.cold.toFixed(2)} s on a cold cache, ` +
        `${first.warm.toFixed(2)} s on a warm cache (target ≤ 2 s)`,
    );
  } finally {
    for (const contender of contenders) await contender.close();
    await browser.close();
    await server.close();
    rmSync(models, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
