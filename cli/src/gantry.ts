#!/usr/bin/env node
// The `gantry` command: train → export → serve, plus sample and experiment. Each subcommand lives in commands/.
import { trainCommand, trainUsage } from './commands/train.js';
import { exportCommand, exportUsage } from './commands/export.js';
import { serveCommand, serveUsage } from './commands/serve.js';
import { sampleCommand, sampleUsage } from './commands/sample.js';
import { generateCommand, generateUsage } from './commands/generate.js';
import { experimentCommand, experimentUsage } from './commands/experiment.js';
import { trainClassifierCommand, trainClassifierUsage } from './commands/train-classifier.js';
import { evalCommand, evalUsage } from './commands/eval.js';
import { reportCommand, reportUsage } from './commands/report.js';
import { UsageError } from './args.js';
import { describeFailure } from './failure.js';

const commands: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  train: { run: trainCommand, usage: trainUsage },
  export: { run: exportCommand, usage: exportUsage },
  serve: { run: serveCommand, usage: serveUsage },
  sample: { run: sampleCommand, usage: sampleUsage },
  generate: { run: generateCommand, usage: generateUsage },
  experiment: { run: experimentCommand, usage: experimentUsage },
  eval: { run: evalCommand, usage: evalUsage },
  report: { run: reportCommand, usage: reportUsage },
  'train-classifier': { run: trainClassifierCommand, usage: trainClassifierUsage },
};

function help(): string {
  return `gantry: train GANs with TensorFlow.js, export generators to ONNX, serve them.\n\n${Object.values(commands)
    .map((c) => c.usage)
    .join('\n\n')}\n\nEvery command takes --verbose: an unexpected failure then prints its stack trace.\n`;
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

// --verbose is understood by every command, so it is taken out before the command parses its options.
const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
main(args.filter((arg) => arg !== '--verbose')).catch((error: unknown) => {
  console.error(describeFailure(error, verbose));
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
});
