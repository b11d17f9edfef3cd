import { resolve } from 'node:path';
import { backendChoices, EXPERIMENTS, selectBackend, type ExperimentEvent } from '@gantry/training';
import { choiceOption, parseCommandArgs, UsageError } from '../args.js';
import { ProgressBar } from '../progress.js';

export const experimentUsage = `gantry experiment NAME [--quick] [--out DIR] [--fresh] [--backend auto|tensorflow|wasm|cpu] [--set KEY=VALUE ...]
gantry experiment --list
  Runs an experiment: PNG plots, results.json, summary.md (its table, also printed) in --out
  (default experiments/NAME, or experiments/NAME-quick with --quick). Each unit's result is saved as
  it completes; a rerun skips finished units. --quick: small settings that finish in seconds.
  --fresh: discard earlier units (needed after switching between --quick and full in one folder).
  --set: override a parameter (dotted for nested ones; lists comma-separated), e.g.
  --set training.steps=2000 --set methods=GAN,PacGAN2; results.json records what ran.
  --backend: tfjs backend of the training experiments (default: the one measured fastest for each).
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
    backend: { type: 'string' },
    set: { type: 'string', multiple: true },
  });
  if (args.list) {
    process.stdout.write(`${listing()}\n`);
    return;
  }
  if (name === undefined) throw new UsageError(`gantry experiment: name an experiment (gantry experiment NAME); experiments:\n${listing()}`);
  const experiment = EXPERIMENTS.get(name);
  if (experiment === undefined) throw new UsageError(`gantry experiment: unknown experiment "${name}"; experiments: ${[...EXPERIMENTS.keys()].join(', ')}`);
  const backendChoice = choiceOption('experiment', 'backend', args.backend, backendChoices, experiment.backend ?? 'auto');
  if (experiment.backend !== undefined || args.backend !== undefined) console.error(`backend: ${(await selectBackend(backendChoice)).detail}`);
  const quick = args.quick ?? false;
  const overrides: Record<string, string> = {};
  for (const assignment of args.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new UsageError(`gantry experiment: --set takes KEY=VALUE (e.g. --set seeds=3), got ${JSON.stringify(assignment)}`);
    overrides[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
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
  const { summary, files } = await experiment.run({ outDir, quick, overrides, fresh: args.fresh ?? false, onEvent, log: (message) => (bar ? bar.log(message) : console.error(message)) });
  process.stdout.write(`${summary.table}\n`);
  console.error(`wrote ${files.length} files to ${outDir}: ${files.map((f) => f.slice(outDir.length + 1)).join(', ')}`);
}
