import { basename } from 'node:path';
import {
  CONVERTERS,
  DEFAULT_PARITY_TOLERANCE,
  exportGenerator,
  FLOAT16_PARITY_TOLERANCE,
  OUTPUT_LAYOUTS,
  OUTPUT_PIXELS,
  SUPPORTED_OPSETS,
  WEIGHT_STORAGES,
  type ExportOptions,
} from '@gantry/export';
import type { LatentDistribution } from '@gantry/core';
import {
  checkpointFolder,
  checkpointGeneratorModel,
  configSha256,
  latestCheckpoint,
  listCheckpointSteps,
  readCheckpointState,
  readRunConfig,
  selectBackend,
} from '@gantry/training';
import { choiceOption, integerOption, parseCommandArgs, requireOption, UsageError } from '../args.js';

export const exportUsage = `gantry export (--run DIR [--step N] | --model PATH/model.json [--dataset NAME] [--latent normal|uniform] [--range -1,1])
              --out models/NAME [--converter gantry|tf2onnx] [--opset 17] [--batch N] [--layout NHWC|NCHW]
              [--pixels float32|uint8] [--weights float32|float16] [--fold-batchnorm] [--tolerance X]
              [--checker auto|require|skip] [--triton DIR] [--triton-max-batch 64]
  Converts a generator to ONNX: a run's newest checkpoint (or --step), or any tfjs layers model.json
  (--model; latent size from the model, distribution --latent, output range --range, default -1,1).
  Every export is checked against tfjs through onnxruntime-node (max abs difference <= 1e-5, or 1e-2
  with --weights float16; --tolerance overrides) and by ONNX's checker with full shape inference
  (python3-onnx; --checker require fails without it, auto skips with a warning), then NAME/generator.onnx
  and NAME/card.json are written. --converter tf2onnx uses tensorflowjs_converter + tf2onnx (pip install
  tensorflowjs tf2onnx). --batch fixes the batch axis (default dynamic); --layout NCHW and --pixels uint8
  shape the output for other runtimes (gantry serve needs the defaults); --fold-batchnorm folds batch norm
  into the convolution before it. --triton DIR also writes DIR/NAME/config.pbtxt and DIR/NAME/1/model.onnx.`;

/** The export options that come from a training run: the checkpoint's model and what trained it. */
async function fromRun(
  runDir: string,
  stepOption: string | undefined,
): Promise<Pick<ExportOptions, 'model' | 'description' | 'dataset' | 'latent' | 'outputRange' | 'training' | 'classNames'>> {
  let checkpoint: string | undefined;
  if (stepOption !== undefined) {
    const step = integerOption('export', 'step', stepOption, 0, 0, Number.MAX_SAFE_INTEGER);
    const steps = await listCheckpointSteps(runDir);
    if (!steps.includes(step))
      throw new UsageError(
        `gantry export: ${runDir} has no complete checkpoint at step ${step} (it has: ${steps.join(', ') || 'none'})`,
      );
    checkpoint = checkpointFolder(runDir, step);
  } else {
    checkpoint = await latestCheckpoint(runDir);
    if (checkpoint === undefined)
      throw new UsageError(
        `gantry export: ${runDir} has no complete checkpoint to export; train first (gantry train --config FILE --run ${runDir})`,
      );
  }
  const config = await readRunConfig(runDir);
  const state = await readCheckpointState(checkpoint);
  return {
    model: checkpointGeneratorModel(checkpoint, config),
    description: `${config.model.architecture.toUpperCase()} generator${config.ema.enabled ? ' (EMA of its weights)' : ''} trained on ${config.data.dataset} by gantry train (${state.step} steps)`,
    dataset: config.data.dataset,
    latent: { size: config.model.latentSize, distribution: config.model.latentDistribution },
    outputRange: [-1, 1],
    training: {
      configSha256: configSha256(config),
      steps: state.step,
      wallSeconds: Number(state.wallSeconds.toFixed(1)),
      backend: state.backend,
    },
    ...(state.classNames !== undefined ? { classNames: state.classNames } : {}),
  };
}

function parseRange(value: string | undefined): [number, number] {
  if (value === undefined) return [-1, 1];
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0]! < parts[1]!)) {
    throw new UsageError(
      `gantry export: --range must be LO,HI with LO < HI (the generator's output range, e.g. -1,1 for tanh), got ${JSON.stringify(value)}`,
    );
  }
  return parts as [number, number];
}

export async function exportCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('export', argv, {
    run: { type: 'string' },
    step: { type: 'string' },
    model: { type: 'string' },
    dataset: { type: 'string' },
    latent: { type: 'string' },
    range: { type: 'string' },
    out: { type: 'string' },
    converter: { type: 'string' },
    opset: { type: 'string' },
    batch: { type: 'string' },
    layout: { type: 'string' },
    pixels: { type: 'string' },
    weights: { type: 'string' },
    'fold-batchnorm': { type: 'boolean' },
    tolerance: { type: 'string' },
    checker: { type: 'string' },
    triton: { type: 'string' },
    'triton-max-batch': { type: 'string' },
  });
  if ((args.run === undefined) === (args.model === undefined)) {
    throw new UsageError(
      'gantry export: give either --run DIR (a training run) or --model PATH/model.json (any tfjs layers model)',
    );
  }
  const fromRunOnly = (['step'] as const).filter((key) => args.model !== undefined && args[key] !== undefined);
  const fromModelOnly = (['dataset', 'latent', 'range'] as const).filter(
    (key) => args.run !== undefined && args[key] !== undefined,
  );
  if (fromRunOnly.length + fromModelOnly.length > 0) {
    throw new UsageError(
      `gantry export: ${[...fromRunOnly, ...fromModelOnly].map((k) => `--${k}`).join(', ')} ${fromRunOnly.length > 0 ? 'applies to --run only' : 'applies to --model only (a run knows its own)'}`,
    );
  }
  const outDir = requireOption('export', 'out', args.out, 'the model folder to write, e.g. models/my-gan');
  const converter = choiceOption('export', 'converter', args.converter, CONVERTERS, 'gantry');
  const opset = Number(choiceOption('export', 'opset', args.opset, SUPPORTED_OPSETS.map(String), '17'));
  const batch = args.batch === undefined ? null : integerOption('export', 'batch', args.batch, 1, 1, 65536);
  const layout = choiceOption('export', 'layout', args.layout, OUTPUT_LAYOUTS, 'NHWC');
  const pixels = choiceOption('export', 'pixels', args.pixels, OUTPUT_PIXELS, 'float32');
  const weights = choiceOption('export', 'weights', args.weights, WEIGHT_STORAGES, 'float32');
  const checker = choiceOption('export', 'checker', args.checker, ['auto', 'require', 'skip'] as const, 'auto');
  const tolerance =
    args.tolerance === undefined
      ? weights === 'float16'
        ? FLOAT16_PARITY_TOLERANCE
        : DEFAULT_PARITY_TOLERANCE
      : Number(args.tolerance);
  if (!(tolerance > 0))
    throw new UsageError(`gantry export: --tolerance must be a positive number, got ${JSON.stringify(args.tolerance)}`);
  if (args['triton-max-batch'] !== undefined && args.triton === undefined)
    throw new UsageError('gantry export: --triton-max-batch needs --triton DIR');
  const triton =
    args.triton === undefined
      ? undefined
      : { dir: args.triton, maxBatchSize: integerOption('export', 'triton-max-batch', args['triton-max-batch'], 64, 1, 65536) };

  const source =
    args.run !== undefined
      ? await fromRun(args.run, args.step)
      : {
          model: args.model!,
          description: `tfjs model ${basename(args.model!)} exported by gantry export`,
          dataset: args.dataset ?? 'unknown',
          latent: {
            distribution: choiceOption(
              'export',
              'latent',
              args.latent,
              ['normal', 'uniform'] as const satisfies readonly LatentDistribution[],
              'normal',
            ),
          },
          outputRange: parseRange(args.range),
        };
  const backend = await selectBackend('auto');
  const name = basename(outDir);
  console.error(
    `exporting ${source.model} to ${outDir} (${converter} converter, opset ${opset}, ${batch === null ? 'dynamic batch' : `batch ${batch}`}, ${layout} ${pixels} output, ${weights} weights${args['fold-batchnorm'] ? ', batch norm folded' : ''}; tfjs on ${backend.name})`,
  );
  const result = await exportGenerator({
    ...source,
    outDir,
    name,
    converter,
    opset,
    batch,
    layout,
    pixels,
    weights,
    foldBatchNorm: args['fold-batchnorm'] === true,
    parityTolerance: tolerance,
    onnxChecker: checker,
    ...(triton ? { triton } : {}),
    onProgress: (event) => {
      if (event.stage === 'parity') console.error(`checking parity with tfjs on ${event.samples} random samples...`);
      if (event.stage === 'check') console.error(`running ONNX's checker (full_check) with ${event.python}...`);
      if (event.stage === 'warning') console.error(`warning: ${event.message}`);
      if (event.stage === 'triton') console.error(`wrote the Triton model ${event.path} (config.pbtxt, 1/model.onnx)`);
      if (event.stage === 'write') console.error(`writing ${event.bytes} bytes of ONNX`);
    },
  });
  console.error(`parity: max abs difference ${result.maxAbsDiff.toExponential(3)} (limit ${tolerance})`);
  if (result.card.export?.onnxChecker)
    console.error(`ONNX checker (onnx ${result.card.export.onnxChecker}, full shape inference): passed`);
  console.log(
    `exported ${result.onnxPath} and ${result.cardPath} in ${result.card.export?.seconds.toFixed(1)} s (sha256 ${result.card.onnx.sha256.slice(0, 12)}…)`,
  );
}
