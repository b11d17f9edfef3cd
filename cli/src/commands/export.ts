import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { exportGenerator, loadLayersModelFromFile, SUPPORTED_OPSETS } from '@gantry/export';
import { checkpointFolder, checkpointGeneratorModel, configSha256, latestCheckpoint, listCheckpointSteps, parseTrainConfig, selectBackend, type CheckpointState } from '@gantry/training';
import { choiceOption, integerOption, parseCommandArgs, requireOption, UsageError } from '../args.js';

export const exportUsage = `gantry export --run DIR --out models/NAME [--step N] [--opset 17] [--batch N] [--tolerance 1e-4]
  Converts a run's generator (newest checkpoint, or --step) to ONNX with Gantry's own writer,
  checks it against tfjs on 64 random latents through onnxruntime-node (fails above the tolerance),
  and writes NAME/generator.onnx and NAME/card.json. --batch fixes the batch axis (default dynamic).`;

export async function exportCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('export', argv, {
    run: { type: 'string' },
    out: { type: 'string' },
    step: { type: 'string' },
    opset: { type: 'string' },
    batch: { type: 'string' },
    tolerance: { type: 'string' },
  });
  const runDir = requireOption('export', 'run', args.run, 'the training run folder to export');
  const outDir = requireOption('export', 'out', args.out, 'the model folder to write, e.g. models/my-gan');
  const opset = Number(choiceOption('export', 'opset', args.opset, SUPPORTED_OPSETS.map(String), '17'));
  const batch = args.batch === undefined ? null : integerOption('export', 'batch', args.batch, 1, 1, 65536);
  const tolerance = args.tolerance === undefined ? 1e-4 : Number(args.tolerance);
  if (!(tolerance > 0)) throw new UsageError(`gantry export: --tolerance must be a positive number, got ${JSON.stringify(args.tolerance)}`);

  let checkpoint: string | undefined;
  if (args.step !== undefined) {
    const step = integerOption('export', 'step', args.step, 0, 0, Number.MAX_SAFE_INTEGER);
    const steps = await listCheckpointSteps(runDir);
    if (!steps.includes(step)) throw new UsageError(`gantry export: ${runDir} has no complete checkpoint at step ${step} (it has: ${steps.join(', ') || 'none'})`);
    checkpoint = checkpointFolder(runDir, step);
  } else {
    checkpoint = await latestCheckpoint(runDir);
    if (checkpoint === undefined) throw new UsageError(`gantry export: ${runDir} has no complete checkpoint to export; train first (gantry train --config FILE --run ${runDir})`);
  }
  const config = parseTrainConfig(JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')), `${runDir}/config.json`);
  const state = JSON.parse(await readFile(join(checkpoint, 'state.json'), 'utf8')) as CheckpointState<unknown>;
  const backend = await selectBackend('auto');
  const generator = await loadLayersModelFromFile(checkpointGeneratorModel(checkpoint, config));
  const name = basename(outDir);
  console.error(`exporting ${checkpoint} (step ${state.step}) to ${outDir} (opset ${opset}, ${batch === null ? 'dynamic batch' : `batch ${batch}`}; tfjs on ${backend.name})`);
  try {
    const result = await exportGenerator({
      model: generator,
      outDir,
      name,
      description: `DCGAN generator trained on ${config.data.dataset} by gantry train (${state.step} steps)`,
      dataset: config.data.dataset,
      latent: { size: config.model.latentSize, distribution: config.model.latentDistribution },
      outputRange: [-1, 1],
      training: { configSha256: configSha256(config), steps: state.step, wallSeconds: Number(state.wallSeconds.toFixed(1)), backend: state.backend },
      opset,
      batch,
      parityTolerance: tolerance,
      onProgress: (event) => {
        if (event.stage === 'write') console.error(`wrote ${event.bytes} bytes of ONNX`);
        if (event.stage === 'parity') console.error(`checking parity with tfjs on ${event.samples} random latents...`);
      },
    });
    console.error(`parity: max abs difference ${result.maxAbsDiff.toExponential(3)} (limit ${tolerance})`);
    console.log(`exported ${result.onnxPath} and ${result.cardPath} (sha256 ${result.card.onnx.sha256.slice(0, 12)}…)`);
  } finally {
    generator.dispose();
  }
}
