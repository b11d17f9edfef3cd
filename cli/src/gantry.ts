#!/usr/bin/env node
// The `gantry` command: train → export → serve, plus sample and experiment. Each subcommand lives in commands/.
import { trainCommand, trainUsage } from './commands/train.js';
import { exportCommand, exportUsage } from './commands/export.js';
import { serveCommand, serveUsage } from './commands/serve.js';
import { sampleCommand, sampleUsage } from './commands/sample.js';
import { generateCommand, generateUsage } from './commands/generate.js';
import { experimentCommand, experimentUsage } from './commands/experiment.js';
import { UsageError } from './args.js';

const commands: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  train: { run: trainCommand, usage: trainUsage },
  export: { run: exportCommand, usage: exportUsage },
  serve: { run: serveCommand, usage: serveUsage },
  sample: { run: sampleCommand, usage: sampleUsage },
  generate: { run: generateCommand, usage: generateUsage },
  experiment: { run: experimentCommand, usage: experimentUsage },
};

function help(): string {
  return `gantry: train GANs with TensorFlow.js, export generators to ONNX, serve them.\n\n${Object.values(commands)
    .map((c) => c.usage)
    .join('\n\n')}\n`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return;
  }
  const command = commands[name];
  if (command === undefined) {
    throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(commands).join(', ')} (gantry help)`);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return;
  }
  await command.run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const err = error as Error;
  // Expected failures (bad input, missing files) print their message alone; anything else keeps its stack.
  const expected = ['UsageError', 'ConfigError', 'DatasetError', 'RunFolderError', 'TrainingDivergedError', 'ModelFileError', 'CardError', 'ExportError', 'ParityError', 'OnnxCheckerError', 'ModelsFolderError', 'ModelLoadError', 'HashMismatchError', 'UnknownModelError', 'ProviderUnavailableError', 'NpyFormatError', 'ExperimentError'];
  const text = expected.includes(err.name) ? err.message : (err.stack ?? String(err));
  console.error(text.startsWith('gantry ') ? text : `gantry: ${text}`);
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
});
