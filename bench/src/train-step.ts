// `npm run bench:train`: images/s of one GAN training step (one D update + one G update, batch 64)
// on tfjs-wasm with Gantry's kernels, beside PyTorch 1.13 CPU running the same networks, measured in
// one run and printed as a ratio. Also tfjs' pure-JavaScript cpu backend for a step, and the process'
// memory over a long soak so a leak shows up as growth.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { Rng } from '@gantry/core';
import { buildPlayers, createStrategy, disposePlayers, parseTrainConfig, selectBackend } from '@gantry/training';
import { benchModels as models, type BenchModel } from './models.js';

interface TfjsResult {
  imagesPerSecond: number;
  secondsPerStep: number;
  /** Processor time of the whole process a step (all threads): steadier than wall time on a shared machine. */
  cpuSecondsPerStep: number;
  batch: number;
  tensorsConstant: boolean;
  rssMiB?: { start: number; end: number; steps: number };
}

async function benchTfjs(
  model: BenchModel,
  backend: 'wasm' | 'cpu',
  warmup: number,
  steps: number,
  batch: number,
  soak: number,
): Promise<TfjsResult> {
  await selectBackend(backend);
  const config = parseTrainConfig({ ...model.config, training: { ...model.config.training, batchSize: batch } });
  const players = buildPlayers(config, model.sampleShape);
  const data = model.data(Math.max(batch, 256));
  const rng = Rng.fromSeed(1);
  // The strategy the config names (alternating for the DCGANs, simultaneous for PacGAN's toy setup).
  const strategy = createStrategy(config);
  const step = (): unknown => strategy.step({ config, players, data, rng, step: 0 });
  try {
    for (let i = 0; i < warmup; i++) step();
    const tensorsBefore = tf.memory().numTensors;
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    for (let i = 0; i < steps; i++) step();
    const cpu = process.cpuUsage(cpuStarted);
    const secondsPerStep = (performance.now() - started) / 1000 / steps;
    const cpuSecondsPerStep = (cpu.user + cpu.system) / 1e6 / steps;
    const result: TfjsResult = {
      imagesPerSecond: batch / secondsPerStep,
      secondsPerStep,
      cpuSecondsPerStep,
      batch,
      tensorsConstant: tf.memory().numTensors === tensorsBefore,
    };
    if (soak > 0) {
      const start = process.memoryUsage().rss / 2 ** 20;
      for (let i = 0; i < soak; i++) {
        step();
        if ((i + 1) % 50 === 0)
          process.stderr.write(`\r  soak ${i + 1}/${soak} steps, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
      }
      process.stderr.write('\n');
      result.rssMiB = { start, end: process.memoryUsage().rss / 2 ** 20, steps: soak };
      result.tensorsConstant &&= tf.memory().numTensors === tensorsBefore;
    }
    return result;
  } finally {
    strategy.dispose();
    disposePlayers(players);
  }
}

interface TorchResult {
  imagesPerSecond: number;
  threads: number;
  /** The BLAS library PyTorch loaded: Debian's reference BLAS is several times slower than OpenBLAS. */
  blas: string;
}

/** PyTorch on `threads` threads (Debian's build alone would use 1). */
function benchPytorch(name: string, warmup: number, steps: number, threads: number): TorchResult | { absent: string } {
  const script = fileURLToPath(new URL('../pytorch_reference.py', import.meta.url));
  const python = process.env.GANTRY_BENCH_PYTHON ?? '/usr/bin/python3';
  const run = spawnSync(
    python,
    [script, '--model', name, '--warmup', String(warmup), '--steps', String(steps), '--threads', String(threads)],
    { encoding: 'utf8' },
  );
  if (run.error !== undefined)
    return { absent: `${python} could not be run (${run.error.message}); install Debian's python3-torch` };
  if (run.status !== 0) {
    const missing = /No module named 'torch'/.test(run.stderr);
    return {
      absent: missing
        ? `PyTorch is not installed for ${python} (apt-get install python3-torch)`
        : `the PyTorch reference failed: ${run.stderr.trim().split('\n').pop()}`,
    };
  }
  const line = JSON.parse(run.stdout.trim().split('\n').pop()!) as { images_per_second: number; threads: number; blas: string };
  return { imagesPerSecond: line.images_per_second, threads: line.threads, blas: line.blas };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', multiple: true },
      steps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      soak: { type: 'string', default: '0' },
      'cpu-batch': { type: 'string', default: '4' },
      'skip-cpu': { type: 'boolean', default: false },
    },
  });
  const selected = values.model ?? models.map((m) => m.name);
  const unknown = selected.filter((name) => !models.some((m) => m.name === name));
  if (unknown.length > 0)
    throw new Error(`--model ${unknown.join(', ')} is not a bench model; choose from ${models.map((m) => m.name).join(', ')}`);
  const defaultSteps = Number(values.steps);
  const defaultWarmup = Number(values.warmup);
  const soak = Number(values.soak);
  const rows: string[] = [];
  for (const model of models.filter((m) => selected.includes(m.name))) {
    const steps = model.heavy ? Math.min(defaultSteps, 2) : defaultSteps;
    const warmup = model.heavy ? Math.min(defaultWarmup, 1) : defaultWarmup;
    console.error(`${model.name}: ${model.description}`);
    console.error(`  tfjs-wasm: ${warmup} warm-up + ${steps} timed steps of batch ${model.batch}...`);
    const wasm = await benchTfjs(model, 'wasm', warmup, steps, model.batch, model.name === 'dcgan-mnist' ? soak : 0);
    const threads = getThreadsCount();
    let torch: TorchResult | { absent: string } = { absent: 'no PyTorch twin of this model in bench/pytorch_reference.py' };
    // Debian's build runs one thread unless told otherwise, and on a small machine that can be PyTorch's
    // faster setting: the bench compares against both, and against whichever is faster.
    let torchDefault: TorchResult | { absent: string } | null = null;
    if (model.pytorchReference) {
      console.error(`  PyTorch: ${warmup} warm-up + ${steps} timed steps...`);
      torch = benchPytorch(model.name, warmup, steps, threads);
      if (!model.heavy) torchDefault = benchPytorch(model.name, warmup, steps, 1);
    }
    let cpuText = 'skipped';
    if (model.heavy) {
      cpuText = 'skipped (a single image would take minutes on the pure-JavaScript backend)';
    } else if (!values['skip-cpu']) {
      const cpuBatch = Number(values['cpu-batch']);
      console.error(`  tfjs-cpu: 1 step of batch ${cpuBatch} (the pure-JavaScript backend is far too slow for more)...`);
      const cpu = await benchTfjs(model, 'cpu', 0, 1, cpuBatch, 0);
      cpuText = `${cpu.imagesPerSecond.toFixed(2)} img/s (batch ${cpu.batch})`;
    }
    const weakBlas = !('absent' in torch) && !/openblas|mkl|blis/i.test(torch.blas);
    const torchText =
      'absent' in torch
        ? `absent: ${torch.absent}`
        : `${torch.imagesPerSecond.toFixed(1)} img/s (${torch.threads} threads, BLAS ${torch.blas.split(', ').pop()!.split('/').pop()})` +
          (weakBlas
            ? '\n             WARNING: PyTorch runs on the reference BLAS, a weak baseline; apt-get install libopenblas0-pthread'
            : '');
    const ratio = 'absent' in torch ? 'n/a' : (wasm.imagesPerSecond / torch.imagesPerSecond).toFixed(2);
    const oneThread = torchDefault !== null && !('absent' in torchDefault) ? torchDefault : null;
    const fastestTorch = 'absent' in torch ? null : Math.max(torch.imagesPerSecond, oneThread?.imagesPerSecond ?? 0);
    rows.push(
      [
        `${model.name} (${model.description})`,
        `  tfjs-wasm  ${wasm.imagesPerSecond.toFixed(1)} img/s (${(wasm.secondsPerStep * 1000).toFixed(0)} ms/step, ${(wasm.cpuSecondsPerStep * 1000).toFixed(0)} ms processor time, ${threads} threads); live tensors constant: ${wasm.tensorsConstant ? 'yes' : 'NO'}`,
        `  PyTorch    ${torchText}`,
        ...(oneThread !== null ? [`  PyTorch, 1 thread (Debian's default): ${oneThread.imagesPerSecond.toFixed(1)} img/s`] : []),
        `  tfjs-cpu   ${cpuText}`,
        `  ratio wasm/PyTorch at equal threads: ${ratio}`,
        ...(fastestTorch !== null && oneThread !== null
          ? [`  ratio wasm/PyTorch at PyTorch's faster thread count: ${(wasm.imagesPerSecond / fastestTorch).toFixed(2)}`]
          : []),
        ...(wasm.rssMiB
          ? [`  RSS over ${wasm.rssMiB.steps} steps: ${wasm.rssMiB.start.toFixed(0)} → ${wasm.rssMiB.end.toFixed(0)} MiB`]
          : []),
      ].join('\n'),
    );
  }
  console.log(`\n${rows.join('\n\n')}`);
}

main().catch((error: unknown) => {
  console.error(`bench:train: ${(error as Error).message}`);
  process.exitCode = 1;
});
