// Builds the explorer as a static site: the page and the library bundled and minified by esbuild,
// onnxruntime-web's module and wasm files beside them, and the model folders with models/index.json,
// so any static host can serve the folder. Checks that the library's own JavaScript stays small.
//
//   node inference/web/dist/build-site.js [--models DIR] [--out DIR]
// (`npm run build:web -- --models DIR` from the repository root.)

import { build, type Plugin } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { GantryError, parseCard } from '@gantry/core';

/** The library's and page's own JavaScript, minified and gzipped, must stay under this many bytes. */
export const SIZE_BUDGET_BYTES = 50 * 1024;

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const repositoryRoot = resolve(packageRoot, '..', '..');

/** onnxruntime-web's files the site needs: the wasm-only build and the WebGPU build, each with its runtime. */
const ORT_FILES = [
  'ort.wasm.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort.webgpu.min.mjs',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

/** Import specifiers of onnxruntime-web's builds → where the site keeps them (not bundled: they are big). */
const ORT_IMPORTS: Record<string, string> = {
  'onnxruntime-web/wasm': './ort/ort.wasm.min.mjs',
  'onnxruntime-web/webgpu': './ort/ort.webgpu.min.mjs',
};

const ortExternal: Plugin = {
  name: 'onnxruntime-web-external',
  setup(builder) {
    builder.onResolve({ filter: /^onnxruntime-web\// }, (args) => {
      const path = ORT_IMPORTS[args.path];
      if (path === undefined)
        throw new GantryError(
          'site-build',
          `unexpected import ${args.path}; the site ships ${Object.keys(ORT_IMPORTS).join(' and ')}`,
        );
      return { path, external: true };
    });
  },
};

export interface SiteBuildOptions {
  modelsDir: string;
  outDir: string;
}

export interface SiteBuildResult {
  outDir: string;
  models: string[];
  /** Minified, gzipped bytes of the site's own JavaScript (everything but onnxruntime-web). */
  ownJavaScriptGzipBytes: number;
  ownCssGzipBytes: number;
}

function ortDistFolder(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web/wasm'));
}

/** Copies every model folder (a folder with card.json and its ONNX file) and writes models/index.json. */
export function copyModels(modelsDir: string, siteModels: string): string[] {
  mkdirSync(siteModels, { recursive: true });
  const names: string[] = [];
  const folders = existsSync(modelsDir) ? readdirSync(modelsDir).sort() : [];
  for (const name of folders) {
    const folder = join(modelsDir, name);
    const cardPath = join(folder, 'card.json');
    if (!statSync(folder).isDirectory() || !existsSync(cardPath)) continue;
    const card = parseCard(JSON.parse(readFileSync(cardPath, 'utf8')), cardPath);
    const onnxPath = join(folder, card.onnx.file);
    if (!existsSync(onnxPath))
      throw new GantryError('site-build', `${cardPath}: onnx.file "${card.onnx.file}" does not exist beside it`);
    const target = join(siteModels, name);
    mkdirSync(dirname(join(target, card.onnx.file)), { recursive: true });
    copyFileSync(cardPath, join(target, 'card.json'));
    copyFileSync(onnxPath, join(target, card.onnx.file));
    names.push(name);
  }
  writeFileSync(join(siteModels, 'index.json'), `${JSON.stringify({ models: names })}\n`);
  return names;
}

function gzipSize(files: string[]): number {
  return files.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0);
}

export async function buildSite({ modelsDir, outDir }: SiteBuildOptions): Promise<SiteBuildResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'ort'), { recursive: true });
  const source = join(packageRoot, 'src');
  const result = await build({
    entryPoints: {
      'gantry-web': join(source, 'index.ts'),
      explorer: join(source, 'page', 'explorer.ts'),
      style: join(source, 'page', 'style.css'),
    },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    chunkNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    plugins: [ortExternal],
  });
  copyFileSync(join(source, 'page', 'index.html'), join(outDir, 'index.html'));
  // Static hosts that read a _headers file (Netlify, Cloudflare Pages) then serve the page cross-origin
  // isolated, which lets onnxruntime-web use threads.
  writeFileSync(
    join(outDir, '_headers'),
    '/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n',
  );
  const ortDist = ortDistFolder();
  for (const file of ORT_FILES) copyFileSync(join(ortDist, file), join(outDir, 'ort', file));
  const models = copyModels(modelsDir, join(outDir, 'models'));
  const outputs = Object.keys(result.metafile.outputs).map((file) => resolve(file));
  return {
    outDir,
    models,
    ownJavaScriptGzipBytes: gzipSize(outputs.filter((file) => file.endsWith('.js'))),
    ownCssGzipBytes: gzipSize(outputs.filter((file) => file.endsWith('.css'))),
  };
}

async function main(): Promise<void> {
  let values: { models?: string; out?: string };
  try {
    ({ values } = parseArgs({
      options: { models: { type: 'string' }, out: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new GantryError(
      'usage',
      `${error instanceof Error ? error.message : String(error)}; build-site takes --models DIR and --out DIR`,
    );
  }
  const modelsDir = resolve(values.models ?? join(repositoryRoot, 'models'));
  const outDir = resolve(values.out ?? join(packageRoot, 'dist', 'site'));
  if (values.models !== undefined && !existsSync(modelsDir))
    throw new GantryError(
      'usage',
      `--models ${values.models}: no such folder; give a folder of model folders (each with card.json)`,
    );
  const result = await buildSite({ modelsDir, outDir });
  const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
  console.log(`site: ${result.outDir} (${result.models.length} model(s): ${result.models.join(', ') || 'none'})`);
  console.log(
    `own JavaScript ${kb(result.ownJavaScriptGzipBytes)} KB min+gzip ` +
      `(budget ${kb(SIZE_BUDGET_BYTES)} KB), CSS ${kb(result.ownCssGzipBytes)} KB`,
  );
  if (result.ownJavaScriptGzipBytes > SIZE_BUDGET_BYTES) {
    throw new GantryError(
      'site-build',
      `the site's own JavaScript is ${kb(result.ownJavaScriptGzipBytes)} KB min+gzip, ` +
        `over the ${kb(SIZE_BUDGET_BYTES)} KB budget`,
    );
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`build-site: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
