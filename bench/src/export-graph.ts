// `npm run bench:graph`: Gantry's exported reference DCGAN generator beside torch.onnx's export of the same
// network, both run by onnxruntime-node in one process, at batch 1 and 256 on 1 and 2 threads. The two
// sessions are timed in alternating rounds so that load from other processes hits both alike.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { Rng } from '@gantry/core';
import { convertLayersModel } from '@gantry/export';
import { decodeModel } from '@gantry/files/onnx';
import { buildGenerator, parseTrainConfig, selectBackend } from '@gantry/training';

const LATENT = 100;

/** The graph's compute ops, leaving out what only shuffles constants (Identity, Constant, Shape arithmetic). */
function computeOps(bytes: Uint8Array): string[] {
  const bookkeeping = new Set(['Identity', 'Constant', 'Shape', 'Gather', 'Unsqueeze', 'Concat', 'Cast']);
  return decodeModel(bytes)
    .graph.node.map((n) => n.op_type)
    .filter((op) => !bookkeeping.has(op));
}

async function timeSession(session: ort.InferenceSession, batch: number, seconds: number): Promise<number> {
  const rng = Rng.fromSeed(3);
  const latent = new Float32Array(batch * LATENT);
  for (let i = 0; i < latent.length; i++) latent[i] = rng.nextNormal();
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', latent, [batch, LATENT]) };
  await session.run(feeds);
  let runs = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    await session.run(feeds);
    runs++;
  }
  return (runs * batch) / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' } },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  await selectBackend('cpu');
  const config = parseTrainConfig({ model: { generatorWidth: 128, discriminatorWidth: 64 } });
  const generator = buildGenerator(config, [28, 28, 1]);
  const ours = convertLayersModel(generator, { layout: 'NCHW' }).bytes;
  const oursNhwc = convertLayersModel(generator).bytes;
  generator.dispose();
  tf.disposeVariables();

  const dir = await mkdtemp(join(tmpdir(), 'gantry-bench-graph-'));
  try {
    const torchPath = join(dir, 'torch.onnx');
    const python = process.env.GANTRY_BENCH_PYTHON ?? '/usr/bin/python3';
    const script = fileURLToPath(new URL('../torch_onnx_generator.py', import.meta.url));
    const made = spawnSync(python, [script, torchPath], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
    if (made.status !== 0)
      throw new Error(
        `torch.onnx export failed (needs Debian's python3-torch for ${python}): ${(made.stderr || made.error?.message || '').trim().split('\n').pop()}`,
      );
    const torchOps = computeOps(await readFile(torchPath));
    const ourOps = computeOps(ours);
    console.log(`Gantry (NCHW) ops: ${ourOps.length} ${ourOps.join(' ')}`);
    console.log(`torch.onnx ops:    ${torchOps.length} ${torchOps.join(' ')} (without Identity/Constant/Shape arithmetic)`);
    const rows: string[] = [];
    for (const threads of [1, 2]) {
      const options: ort.InferenceSession.SessionOptions = {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      };
      const sessions = {
        gantry: await ort.InferenceSession.create(ours, options),
        gantryNhwc: await ort.InferenceSession.create(oursNhwc, options),
        torch: await ort.InferenceSession.create(torchPath, options),
      };
      for (const batch of [1, 256]) {
        const totals = { gantry: 0, gantryNhwc: 0, torch: 0 };
        for (let r = 0; r < rounds; r++) {
          for (const key of ['gantry', 'torch', 'gantryNhwc'] as const)
            totals[key] += await timeSession(sessions[key], batch, seconds);
        }
        const [g, n, t] = [totals.gantry / rounds, totals.gantryNhwc / rounds, totals.torch / rounds];
        rows.push(
          `threads ${threads}, batch ${String(batch).padStart(3)}: Gantry NCHW ${g.toFixed(0).padStart(7)} img/s, torch.onnx ${t.toFixed(0).padStart(7)} img/s, ` +
            `ratio ${(g / t).toFixed(2)}; Gantry NHWC (default layout) ${n.toFixed(0)} img/s, ratio ${(n / t).toFixed(2)}`,
        );
        console.error(rows.at(-1));
      }
      await Promise.all(Object.values(sessions).map((s) => s.release()));
    }
    console.log(
      `\nreference DCGAN generator in onnxruntime-node ${ort.env.versions.node ?? ''}, ${rounds} alternating rounds of ${seconds} s each:\n${rows.join('\n')}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:graph: ${(error as Error).message}`);
  process.exitCode = 1;
});
