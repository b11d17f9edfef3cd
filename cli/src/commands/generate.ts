// gantry generate: N images from an exported model into a folder, for batch jobs. Image i is the
// latent of seed (S + i) mod 2^32 (a seed names one latent, as in the HTTP API), so any image can be
// regenerated on its own. Work is done in fixed blocks of --batch images (the same onnxruntime batches
// on every run, so a resumed job's files are byte-identical to an uninterrupted one's), and every file
// is written atomically: after a SIGKILL a rerun skips the finished files and redoes the rest.

import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { seedLatents } from '@gantry/core';
import { writeFileAtomic } from '@gantry/files/atomic';
import { sampleAt, sampleToPng } from '@gantry/files/image';
import { encodeNpy } from '@gantry/files/npy';
import { DEVICE_REQUESTS, openModelFolder, type DeviceRequest, type Generator } from '@gantry/inference-node';
import { choiceOption, integerOption, parseCommandArgs, requireOption, UsageError } from '../args.js';
import { ProgressBar } from '../progress.js';
import { modelClasses } from './sample.js';

export const generateUsage = `gantry generate --model DIR --n N --out DIR [--format png|npy] [--seed 0] [--class K]
                [--batch 64] [--shard-size 1000] [--device cpu|auto|cuda] [--threads N]
  Writes N images from an exported model folder: one PNG per image (000000.png, ...) or .npy shards of
  --shard-size images (float32 NHWC), with manifest.json (seeds, classes, the model's hash) and latents.npy.
  Image i comes from seed S+i, so the job is deterministic; rerun the same command after an interruption
  to finish it (finished files are kept, never rewritten). --class K: every image of class K (conditional
  models; without it image i has class i mod classes).`;

const MANIFEST = 'manifest.json';
const LATENTS = 'latents.npy';

interface Job {
  format: 'gantry-generate/1';
  model: string;
  onnxSha256: string;
  n: number;
  seed: number;
  imageFormat: 'png' | 'npy';
  batch: number;
  shardSize: number | null;
  class: number | null;
}

interface Manifest extends Job {
  /** Image i's seed. */
  seeds: number[];
  /** Image i's class (conditional models), else null. */
  classes: number[] | null;
  latents: string;
  /** The output files in order: one per image, or one per shard. */
  files: string[];
  shape: number[];
  range: number[];
}

function sameJob(a: Job, b: Job): string | null {
  for (const key of ['model', 'onnxSha256', 'n', 'seed', 'imageFormat', 'batch', 'shardSize', 'class'] as const) {
    if (a[key] !== b[key])
      return `${key} is ${JSON.stringify(b[key])} in the folder's ${MANIFEST} but ${JSON.stringify(a[key])} now`;
  }
  return null;
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

/** Block b's latents and classes: images [b·batch, min(n, (b+1)·batch)). */
function blockPlan(
  generator: Generator,
  manifest: Manifest,
  start: number,
  end: number,
): { latents: Float32Array; classes: number[] | undefined } {
  return {
    latents: seedLatents(generator.card.latent, manifest.seeds.slice(start, end)),
    classes: manifest.classes === null ? undefined : manifest.classes.slice(start, end),
  };
}

export async function generateCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('generate', argv, {
    model: { type: 'string' },
    n: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    seed: { type: 'string' },
    class: { type: 'string' },
    batch: { type: 'string' },
    'shard-size': { type: 'string' },
    device: { type: 'string' },
    threads: { type: 'string' },
  });
  const modelDir = requireOption('generate', 'model', args.model, 'an exported model folder holding card.json');
  const out = requireOption('generate', 'out', args.out, 'the folder to write the images into');
  if (args.n === undefined) throw new UsageError('gantry generate: --n is required (the number of images)');
  const n = integerOption('generate', 'n', args.n, 0, 1, 10_000_000);
  const seed = integerOption('generate', 'seed', args.seed, 0, 0, 2 ** 32 - 1);
  const imageFormat = choiceOption('generate', 'format', args.format, ['png', 'npy'] as const, 'png');
  const batch = integerOption('generate', 'batch', args.batch, 64, 1, 4096);
  const shardSize =
    imageFormat === 'npy' ? integerOption('generate', 'shard-size', args['shard-size'], 1000, 1, 1_000_000) : null;
  if (shardSize !== null && shardSize % batch !== 0 && batch % shardSize !== 0) {
    throw new UsageError(
      `gantry generate: --shard-size (${shardSize}) must be a multiple or a divisor of --batch (${batch}), so shards and batches line up`,
    );
  }
  const device = choiceOption<DeviceRequest>('generate', 'device', args.device, DEVICE_REQUESTS, 'cpu');
  const threads = args.threads === undefined ? undefined : integerOption('generate', 'threads', args.threads, 1, 1, 256);

  const model = await openModelFolder(modelDir, { device, ...(threads !== undefined ? { intraOpThreads: threads } : {}) });
  try {
    const { generator } = model;
    const { card } = generator;
    const classRequest = modelClasses('generate', modelDir, card.classInput, args.class, n);
    const job: Job = {
      format: 'gantry-generate/1',
      model: generator.name,
      onnxSha256: card.onnx.sha256,
      n,
      seed,
      imageFormat,
      batch,
      shardSize,
      class: typeof classRequest === 'number' ? classRequest : null,
    };
    const digits = Math.max(6, String(n - 1).length);
    const shards = shardSize === null ? 0 : Math.ceil(n / shardSize);
    const files =
      shardSize === null
        ? Array.from({ length: n }, (_, i) => `${String(i).padStart(digits, '0')}.png`)
        : Array.from({ length: shards }, (_, k) => `shard-${String(k).padStart(5, '0')}.npy`);
    const manifest: Manifest = {
      ...job,
      seeds: Array.from({ length: n }, (_, i) => (seed + i) % 2 ** 32),
      classes:
        classRequest === undefined
          ? null
          : typeof classRequest === 'number'
            ? new Array<number>(n).fill(classRequest)
            : classRequest,
      latents: LATENTS,
      files,
      shape: [...generator.shape],
      range: [...generator.range],
    };

    const manifestPath = join(out, MANIFEST);
    const previous = await readFile(manifestPath, 'utf8').then(
      (text) => JSON.parse(text) as Job,
      () => null,
    );
    if (previous !== null) {
      const difference = sameJob(job, previous);
      if (difference !== null)
        throw new UsageError(
          `gantry generate: ${out} holds another job (${difference}); use a new --out folder or rerun with the same options`,
        );
    } else {
      await writeFileAtomic(join(out, LATENTS), encodeNpy(seedLatents(card.latent, manifest.seeds), [n, card.latent.size]));
      await writeFileAtomic(manifestPath, `${JSON.stringify(manifest)}\n`);
    }
    // Temporary files of a killed run: never complete, so removed.
    for (const name of await readdir(out))
      if (name.startsWith('.') && name.endsWith('.tmp')) await rm(join(out, name), { force: true });
    if (!(await exists(join(out, LATENTS))))
      await writeFileAtomic(join(out, LATENTS), encodeNpy(seedLatents(card.latent, manifest.seeds), [n, card.latent.size]));

    const present = new Set(await readdir(out));
    const perFile = shardSize ?? 1;
    let done = files.filter((file) => present.has(file)).length * perFile;
    done = Math.min(done, n);
    const bar = new ProgressBar({ total: n, label: 'generate' });
    if (done > 0) bar.log(`resuming: ${done} of ${n} images already written in ${out}`);
    const started = performance.now();
    let produced = 0;
    // A block is --batch images, or one shard when shards are larger; only blocks with a missing file run.
    const block = shardSize === null ? batch : Math.max(batch, shardSize);
    for (let start = 0; start < n; start += block) {
      const end = Math.min(n, start + block);
      if (shardSize === null) {
        const missing = files.slice(start, end).filter((file) => !present.has(file));
        if (missing.length === 0) continue;
        const { latents, classes } = blockPlan(generator, manifest, start, end);
        const result = await generator.fromLatents(latents, end - start, classes);
        await Promise.all(
          files.slice(start, end).map(async (file, i) => {
            if (present.has(file)) return;
            await writeFileAtomic(
              join(out, file),
              await sampleToPng(sampleAt(result.samples, result.shape, i), result.shape, result.range),
            );
          }),
        );
        done += missing.length;
        produced += missing.length;
      } else {
        // Shards within the block; batches of --batch inside each.
        for (let shardStart = start; shardStart < end; shardStart += shardSize) {
          const shardEnd = Math.min(n, shardStart + shardSize);
          const file = files[shardStart / shardSize]!;
          if (present.has(file)) continue;
          const samples = new Float32Array((shardEnd - shardStart) * generator.sampleSize);
          for (let from = shardStart; from < shardEnd; from += batch) {
            const to = Math.min(shardEnd, from + batch);
            const { latents, classes } = blockPlan(generator, manifest, from, to);
            samples.set(
              (await generator.fromLatents(latents, to - from, classes)).samples,
              (from - shardStart) * generator.sampleSize,
            );
          }
          await writeFileAtomic(join(out, file), encodeNpy(samples, [shardEnd - shardStart, ...generator.shape]));
          done += shardEnd - shardStart;
          produced += shardEnd - shardStart;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      bar.update(done, { 'images/s': seconds > 0 ? (produced / seconds).toFixed(0) : '-' });
    }
    bar.finish();
    console.error(
      `wrote ${n} images (${generator.shape.join('×')}) to ${out} as ${imageFormat === 'png' ? 'PNG files' : `${shards} .npy shard(s)`}, with ${MANIFEST} and ${LATENTS}`,
    );
  } finally {
    await model.close();
  }
}
