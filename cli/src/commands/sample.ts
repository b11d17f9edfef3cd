import { readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { encodeNpy } from '@gantry/files/npy';
import { openModelFolder } from '@gantry/inference-node';
import {
  checkpointClassNames,
  latestCheckpoint,
  sampleCheckpoint,
  parseTrainConfig,
  plotRange,
  samplesToPng,
  selectBackend,
} from '@gantry/training';
import { integerOption, parseCommandArgs, UsageError } from '../args.js';

export const sampleUsage = `gantry sample (--run DIR | --model DIR) [--class K] [--n 16] [--seed 0] --out FILE.png|FILE.npy
  Samples a generator without the data set: from a run's newest checkpoint (tfjs) or an exported
  model folder (onnxruntime). .png writes a grid; .npy the raw samples (float32, NHWC).
  --class K: every sample of class K (class-conditional generators; without it sample i has class i mod classes).`;

interface Samples {
  values: Float32Array;
  /** [height, width, channels] for images, [dimensions] for points. */
  shape: number[];
  range: [number, number];
}

/** "0 name, 1 name, …" for at most 20 classes. */
function listClasses(names: readonly string[]): string {
  return (
    names
      .slice(0, 20)
      .map((name, i) => `${i} ${name}`)
      .join(', ') + (names.length > 20 ? ', …' : '')
  );
}

/** --class as a class index of the run's classes, with the classes listed when it does not fit. */
function classOption(value: string | undefined, runDir: string, classNames: string[] | null): number | undefined {
  if (value === undefined) return undefined;
  if (classNames === null)
    throw new UsageError(
      `gantry sample: --class applies to class-conditional runs, but ${runDir} was trained without model.conditional`,
    );
  const index = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(Number.isInteger(index) && index >= 0 && index < classNames.length)) {
    throw new UsageError(
      `gantry sample: --class must be an integer in [0, ${classNames.length - 1}] (the run's classes: ${listClasses(classNames)}), got ${JSON.stringify(value)}`,
    );
  }
  return index;
}

async function fromRun(runDir: string, n: number, seed: number, classValue: string | undefined): Promise<Samples> {
  const checkpoint = await latestCheckpoint(runDir);
  if (checkpoint === undefined) throw new UsageError(`gantry sample: ${runDir} has no complete checkpoint to sample from`);
  const config = parseTrainConfig(JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')), `${runDir}/config.json`);
  const classIndex = classOption(classValue, runDir, await checkpointClassNames(checkpoint, config));
  await selectBackend('auto');
  return { ...(await sampleCheckpoint(checkpoint, config, n, seed, classIndex)), range: [-1, 1] };
}

/** --class for a model folder: every sample of class K, or without it sample i of class i mod classes. */
export function modelClasses(
  command: string,
  modelDir: string,
  classInput: { classes: number; names?: string[] } | undefined,
  classValue: string | undefined,
  n: number,
): number | number[] | undefined {
  if (classInput === undefined) {
    if (classValue !== undefined)
      throw new UsageError(`gantry ${command}: --class applies to class-conditional models, but ${modelDir} has no class input`);
    return undefined;
  }
  if (classValue === undefined) return Array.from({ length: n }, (_, i) => i % classInput.classes);
  const index = /^\d+$/.test(classValue) ? Number(classValue) : NaN;
  if (!(Number.isInteger(index) && index >= 0 && index < classInput.classes)) {
    const listed =
      classInput.names === undefined
        ? `${modelDir} has ${classInput.classes} classes`
        : `the model's classes: ${listClasses(classInput.names)}`;
    throw new UsageError(
      `gantry ${command}: --class must be an integer in [0, ${classInput.classes - 1}] (${listed}), got ${JSON.stringify(classValue)}`,
    );
  }
  return index;
}

async function fromModel(modelDir: string, n: number, seed: number, classValue: string | undefined): Promise<Samples> {
  const model = await openModelFolder(modelDir, { device: 'cpu' });
  try {
    const classes = modelClasses('sample', modelDir, model.generator.card.classInput, classValue, n);
    const { samples, shape, range } = await model.generator.generate({
      n,
      seed,
      ...(classes === undefined ? {} : { class: classes }),
    });
    return { values: samples, shape: [...shape], range };
  } finally {
    await model.close();
  }
}

export async function sampleCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('sample', argv, {
    run: { type: 'string' },
    model: { type: 'string' },
    n: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    class: { type: 'string' },
  });
  if ((args.run === undefined) === (args.model === undefined)) {
    throw new UsageError(
      'gantry sample: give exactly one of --run DIR (a training run) or --model DIR (an exported model folder)',
    );
  }
  const n = integerOption('sample', 'n', args.n, 16, 1, 4096);
  const seed = integerOption('sample', 'seed', args.seed, 0, 0, 2 ** 32 - 1);
  const out = args.out;
  if (out === undefined || !['.png', '.npy'].includes(extname(out))) {
    throw new UsageError(`gantry sample: --out must name a .png (grid) or .npy (raw samples) file, got ${JSON.stringify(out)}`);
  }
  const samples =
    args.run !== undefined ? await fromRun(args.run, n, seed, args.class) : await fromModel(args.model!, n, seed, args.class);
  const bytes =
    extname(out) !== '.png'
      ? encodeNpy(samples.values, [n, ...samples.shape])
      : await samplesToPng(
          samples.values,
          n,
          samples.shape,
          samples.shape.length === 1 ? plotRange(samples.values) : samples.range,
        ); // toy data: a scatter plot or histogram
  await writeFile(out, bytes);
  console.error(`wrote ${n} samples (${samples.shape.join('×')}) to ${out}`);
}
