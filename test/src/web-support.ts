// Helpers for the browser tests: the explorer page opened in Chromium with its console watched, and the
// onnxruntime-node reference the page's numbers are held to.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createSession } from '@gantry/inference-node';
import { canonicalSamples, type ModelCard } from '@gantry/core';
import { repoRoot } from './cli.js';

export const artifactsDir = join(repoRoot, 'test', 'artifacts');

export interface ExplorerPage {
  page: Page;
  /** Console errors and uncaught exceptions, as they happened. */
  errors: string[];
}

export const LAPTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** Opens the explorer at `url` with `query` and waits until the first model is loaded and drawn. */
export async function openExplorer(browser: Browser, url: string, query: string, viewport = LAPTOP): Promise<ExplorerPage> {
  const page = await browser.newPage({ viewport, deviceScaleFactor: viewport.width < 600 ? 2 : 1 });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${url}?${query}`);
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 120_000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready') throw new Error(`the explorer did not load: ${await page.textContent('#error')}`);
  return { page, errors };
}

/** Saves a screenshot under test/artifacts and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.waitForTimeout(400); // let colour-scheme transitions finish
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** onnxruntime-node's samples (canonical NHWC) for these latents and classes, on one CPU thread. */
export async function nodeReference(
  onnxPath: string,
  card: ModelCard,
  latents: Float32Array,
  classes?: Int32Array,
): Promise<Float32Array> {
  const session = await createSession(onnxPath, {
    device: 'cpu',
    intraOpThreads: 1,
    inputName: card.onnx.inputName,
    outputName: card.onnx.outputName,
    ...(card.classInput === undefined ? {} : { classInputName: card.classInput.name }),
  });
  try {
    const n = latents.length / card.latent.size;
    const { data } = await session.runInChunks(latents, n, {
      chunkSize: 64,
      fixedBatch: card.onnx.batch,
      ...(classes === undefined ? {} : { classes }),
    });
    return canonicalSamples(data, n, card.output).samples;
  } finally {
    await session.release();
  }
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Runs the library in the page (imported from the built site) and returns the samples' values. */
export async function samplesInPage(
  page: Page,
  model: string,
  device: 'wasm' | 'webgpu',
  request: { seeds: number[]; class?: number[] },
): Promise<{ values: number[]; backend: string; latents: number[]; progress: { stage: string; fraction: number }[] }> {
  return page.evaluate(
    async ({ model, device, request }) => {
      const { Generator } = (await import(
        new URL('gantry-web.js', location.href).href
      )) as typeof import('@gantry/inference-web');
      const progress: { stage: string; fraction: number }[] = [];
      const generator = await Generator.load(`models/${encodeURIComponent(model)}/`, {
        device,
        onProgress: ({ stage, fraction }) => progress.push({ stage, fraction }),
      });
      try {
        const samples = await generator.generate(request);
        return { values: Array.from(samples.values), backend: generator.backend, latents: Array.from(samples.latents), progress };
      } finally {
        await generator.release();
      }
    },
    { model, device, request },
  );
}
