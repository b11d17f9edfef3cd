import { resolve } from 'node:path';
import { EXPERIMENTS, type ExperimentEvent } from '@gantry/training';
import { parseCommandArgs, UsageError } from '../args.js';
import { ProgressBar } from '../progress.js';

export const experimentUsage = `gantry experiment NAME [--quick] [--out DIR] [--fresh]
gantry experiment --list
  Runs an experiment: PNG plots, results.json, summary.md (its table, also printed) in --out
  (default experiments/NAME, or experiments/NAME-quick with --quick). Each unit's result is saved as
  it completes; a rerun skips finished units. --quick: small settings that finish in seconds.
  --fresh: discard earlier units (needed after switching between --quick and full in one folder).
  Experiments: ${[...EXPERIMENTS.keys()].join(', ')}.`;

function listing(): string {
  return [...EXPERIMENTS.values()].map((e) => `${e.name}: ${e.description}`).join('\n');
}

export async function experimentCommand(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  const name = first !== undefined && !first.startsWith('-') ? first : undefined;
  const args = parseCommandArgs('experiment', name === undefined ? argv : rest, {
    quick: { type: 'boolean' },
    out: { type: 'string' },
    fresh: { type: 'boolean' },
    list: { type: 'boolean' },
  });
  if (args.list) {
    process.stdout.write(`${listing()}\n`);
    return;
  }
  if (name === undefined) throw new UsageError(`gantry experiment: name an experiment (gantry experiment NAME); experiments:\n${listing()}`);
  const experiment = EXPERIMENTS.get(name);
  if (experiment === undefined) throw new UsageError(`gantry experiment: unknown experiment "${name}"; experiments: ${[...EXPERIMENTS.keys()].join(', ')}`);
  const quick = args.quick ?? false;
  const outDir = resolve(args.out ?? `experiments/${name}${quick ? '-quick' : ''}`);

  let bar: ProgressBar | undefined;
  const onEvent = (event: ExperimentEvent): void => {
    if (event.type === 'start') {
      bar = new ProgressBar({ total: Math.max(1, event.total), label: name });
      if (event.resumed > 0) bar.log(`resuming in ${outDir}: ${event.resumed} of ${event.total} units already done`);
      if (event.resumed === event.total) bar.update(event.total);
    } else if (event.type === 'unit') {
      bar?.update(event.done, { unit: event.id, took: `${event.seconds.toFixed(1)} s` });
    } else {
      bar?.finish();
    }
  };
  const { summary, files } = await experiment.run({ outDir, quick, fresh: args.fresh ?? false, onEvent, log: (message) => (bar ? bar.log(message) : console.error(message)) });
  process.stdout.write(`${summary.table}\n`);
  console.error(`wrote ${files.length} files to ${outDir}: ${files.map((f) => f.slice(outDir.length + 1)).join(', ')}`);
}
