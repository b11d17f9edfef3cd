// Chromium for tests and benchmarks: Debian's /usr/bin/chromium driven by playwright-core, headless, with
// WebGPU on SwiftShader (a software adapter, so WebGPU runs without a GPU). DEVELOPERS.md lists the flags.

import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.GANTRY_CHROMIUM ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
];

export function launchChromium({ webgpu = true }: { webgpu?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(webgpu ? WEBGPU_FLAGS : [])],
  });
}
