import { join } from 'node:path';
import {
  backendChoices,
  configSha256,
  MAX_WASM_THREADS,
  readRunConfig,
  readTrainConfig,
  selectBackend,
  train,
  trainConfigWarnings,
  type TrainConfig,
} from '@gantry/training';
import { choiceOption, integerOption, parseCommandArgs, UsageError } from '../args.js';
import { ProgressBar } from '../progress.js';

export const trainUsage = `gantry train --config FILE [--run DIR] [--backend auto|tensorflow|wasm|cpu] [--threads N]
gantry train --run DIR --resume [--backend ...]
  Trains a GAN as the JSON config says and writes the run folder (config.json, log.jsonl,
  samples/<step>.png, checkpoints/<step>/). Ctrl-C writes a checkpoint and stops; --resume
  continues from the newest complete checkpoint. Default run folder: runs/<config name>.
  --threads: wasm threads (default: GANTRY_WASM_THREADS, else one per core).`;

export async function trainCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('train', argv, {
    config: { type: 'string' },
    run: { type: 'string' },
    backend: { type: 'string' },
    resume: { type: 'boolean', default: false },
    threads: { type: 'string' },
  });
  const backendChoice = choiceOption('train', 'backend', args.backend, backendChoices, 'auto');
  let config: TrainConfig;
  if (args.resume) {
    if (args.run === undefined) throw new UsageError('gantry train --resume needs --run DIR (the run folder to continue)');
    config = await readRunConfig(args.run);
    if (args.config !== undefined && configSha256(await readTrainConfig(args.config)) !== configSha256(config)) {
      throw new UsageError(
        `gantry train --resume: ${args.config} differs from ${args.run}/config.json; a resumed run keeps its own config (omit --config)`,
      );
    }
  } else {
    if (args.config === undefined)
      throw new UsageError('gantry train: --config FILE is required (a JSON training config; see models/mnist-dcgan/train.json)');
    config = await readTrainConfig(args.config);
  }
  for (const warning of trainConfigWarnings(config)) console.error(`warning: ${warning}`);
  const runDir = args.run ?? join('runs', config.name);
  const backend = await selectBackend(
    backendChoice,
    args.threads === undefined ? {} : { wasmThreads: integerOption('train', 'threads', args.threads, 1, 1, MAX_WASM_THREADS) },
  );
  console.error(`backend: ${backend.detail}`);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      console.error('\ninterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)');
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  let bar: ProgressBar | undefined;
  let dataBar: ProgressBar | undefined;
  try {
    const result = await train({
      runDir,
      config,
      backend: backend.name,
      resume: args.resume,
      signal: controller.signal,
      onEvent: (event) => {
        switch (event.type) {
          case 'data': {
            const progress = event.progress;
            if (progress.stage === 'read') {
              dataBar ??= new ProgressBar({ total: progress.total, label: 'load' });
              dataBar.update(progress.done);
            } else if (progress.stage === 'skip') {
              const message = `skipped unreadable ${progress.path}: ${progress.reason}`;
              if (dataBar === undefined) console.error(message);
              else dataBar.log(message);
            } else if (progress.stage === 'done') {
              dataBar?.finish();
              console.error(
                `loaded ${progress.images} images in ${progress.seconds.toFixed(1)} s` +
                  (progress.skipped > 0 ? ` (${progress.skipped} unreadable files skipped)` : ''),
              );
            }
            break;
          }
          case 'stale-temporary':
            console.error(`removed ${event.path}, left by a write that was killed`);
            break;
          case 'checkpoint-skipped':
            console.error(`warning: skipped checkpoint ${event.path}: ${event.reason}`);
            break;
          case 'start':
            console.error(
              `training ${config.name} on ${event.dataset} (${event.images} images) for ${event.totalSteps} steps into ${runDir}` +
                (event.resumedFrom ? `, resuming from ${event.resumedFrom}` : ''),
            );
            bar = new ProgressBar({ total: event.totalSteps, label: 'train' });
            break;
          case 'step':
            bar?.update(event.step, {
              'D loss': event.losses.discriminator!.toFixed(3),
              'G loss': event.losses.generator!.toFixed(3),
              'img/s': event.imagesPerSecond.toFixed(1),
            });
            break;
          case 'checkpoint':
            if (event.reason !== 'interval') bar?.log(`checkpoint (${event.reason}) at step ${event.step}: ${event.path}`);
            break;
          case 'done':
            bar?.finish();
            break;
          case 'sample':
            break;
        }
      },
    });
    console.error(
      `${result.interrupted ? 'stopped' : 'finished'} at step ${result.step} after ${result.wallSeconds.toFixed(1)} s of training; ` +
        `checkpoint ${result.checkpoint}` +
        (result.interrupted
          ? `\nresume with: gantry train --run ${runDir} --resume`
          : `\nexport with: gantry export --run ${runDir} --out models/${config.name}`),
    );
    if (result.interrupted) process.exitCode = 130;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
