import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backendChoices,
  EXPERIMENTS,
  MAX_WASM_THREADS,
  selectBackend,
  type ExperimentEvent,
  type RegisteredExperiment,
  type RunExperimentOptions,
} from '@gantry/training';
import { choiceOption, integerOption, parseCommandArgs, UsageError } from '../args.js';
import { ProgressBar } from '../progress.js';
import { checkFolderPath } from '@gantry/files/atomic';

export const experimentUsage = `gantry experiment NAME [--quick] [--out DIR] [--fresh] [--backend auto|tensorflow|wasm|cpu] [--set KEY=VALUE ...]
                  [--jobs N | --shard I/N]
gantry experiment --list
  Runs an experiment: PNG plots, results.json, summary.md (its table, also printed) in --out
  (default experiments/NAME, or experiments/NAME-quick with --quick). Each unit's result is saved as
  it completes; a rerun skips finished units. --quick: small settings that finish in seconds.
  --fresh: discard earlier units (needed after switching between --quick and full in one folder).
  --set: override a parameter (dotted for nested ones; lists comma-separated), e.g.
  --set training.steps=2000 --set methods=GAN,PacGAN2; results.json records what ran.
  --backend: tfjs backend of the training experiments (default: the one measured fastest for each).
  --jobs N: run the units in N processes at once (each with cores/N wasm threads), then summarise.
  --shard I/N: run only units I, I+N, I+2N, … (e.g. one shard per machine sharing a folder); the
  shard that finishes last writes the summary.
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
    jobs: { type: 'string' },
    shard: { type: 'string' },
  });
  if (args.list) {
    process.stdout.write(`${listing()}\n`);
    return;
  }
  if (name === undefined)
    throw new UsageError(`gantry experiment: name an experiment (gantry experiment NAME); experiments:\n${listing()}`);
  const experiment = EXPERIMENTS.get(name);
  if (experiment === undefined)
    throw new UsageError(`gantry experiment: unknown experiment "${name}"; experiments: ${[...EXPERIMENTS.keys()].join(', ')}`);
  const backendChoice = choiceOption('experiment', 'backend', args.backend, backendChoices, experiment.backend ?? 'auto');
  const quick = args.quick ?? false;
  const overrides: Record<string, string> = {};
  for (const assignment of args.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0)
      throw new UsageError(`gantry experiment: --set takes KEY=VALUE (e.g. --set seeds=3), got ${JSON.stringify(assignment)}`);
    overrides[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  const outDir = resolve(args.out ?? `experiments/${name}${quick ? '-quick' : ''}`);
  await checkFolderPath(outDir, 'the output folder (--out)');
  const jobs = integerOption('experiment', 'jobs', args.jobs, 1, 1, 256);
  exitWithParent();
  const shard = args.shard === undefined ? undefined : parseShard(args.shard);
  if (shard !== undefined && jobs > 1)
    throw new UsageError('gantry experiment: --jobs and --shard exclude each other (--jobs N starts N shards itself)');
  if (shard !== undefined && args.fresh)
    throw new UsageError(
      "gantry experiment: --fresh with --shard would delete the other shards' units; run --fresh once without --shard, or use --jobs",
    );
  const selectIfAsked = async (): Promise<void> => {
    if (experiment.backend !== undefined || args.backend !== undefined)
      console.error(`backend: ${(await selectBackend(backendChoice)).detail}`);
  };

  let bar: ProgressBar | undefined;
  const onEvent = (event: ExperimentEvent): void => {
    if (event.type === 'start') {
      bar = new ProgressBar({ total: Math.max(1, event.total), label: name });
      // After --jobs every unit is done by the shards: this pass only summarises.
      if (event.resumed > 0 && jobs === 1)
        bar.log(`resuming in ${outDir}: ${event.resumed} of ${event.total} units already done`);
      if (event.resumed === event.total) bar.update(event.total);
    } else if (event.type === 'unit') {
      bar?.update(event.done, { unit: event.id, took: `${event.seconds.toFixed(1)} s` });
    } else {
      bar?.finish();
    }
  };
  const options: RunExperimentOptions = {
    outDir,
    quick,
    overrides,
    fresh: args.fresh ?? false,
    onEvent,
    log: (message) => (bar ? bar.log(message) : console.error(message)),
  };
  if (jobs > 1) {
    const forwarded = [
      ...(quick ? ['--quick'] : []),
      '--out',
      outDir,
      ...(args.backend !== undefined ? ['--backend', args.backend] : []),
      ...(args.set ?? []).flatMap((s) => ['--set', s]),
    ];
    await runJobs(experiment, options, jobs, forwarded);
    options.fresh = false;
  }
  await selectIfAsked();
  const outcome = shard === undefined ? await experiment.run(options) : await experiment.runShard(options, shard);
  if ('pending' in outcome) {
    console.error(
      `shard ${shard!.index}/${shard!.count} done; ${outcome.pending.length} units of other shards have no result yet (${outcome.pending.join(', ')}): the last shard to finish writes the summary`,
    );
    return;
  }
  process.stdout.write(`${outcome.summary.table}\n`);
  console.error(
    `wrote ${outcome.files.length} files to ${outDir}: ${outcome.files.map((f) => f.slice(outDir.length + 1)).join(', ')}`,
  );
}

/** Set in the shards `--jobs` starts: the parent's pid. */
const PARENT_ENV = 'GANTRY_EXPERIMENT_PARENT';

/** In a shard started by --jobs, stops when that parent process is gone (killed without a chance to stop its shards). */
function exitWithParent(): void {
  const parent = Number(process.env[PARENT_ENV]);
  if (!(Number.isInteger(parent) && parent > 0)) return;
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      console.error(`gantry experiment: the --jobs process ${parent} is gone; this shard stops too`);
      process.exit(1);
    }
  }, 2000).unref();
}

function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !(count >= 1 && index < count))
    throw new UsageError(`gantry experiment: --shard takes I/N with 0 ≤ I < N (e.g. --shard 0/2), got ${JSON.stringify(text)}`);
  return { index, count };
}

/**
 * Runs `jobs` shards of the experiment as child processes sharing `options.outDir`, each with an equal
 * share of the cores, and shows their joint progress by counting unit results as they land.
 */
async function runJobs(
  experiment: RegisteredExperiment,
  options: RunExperimentOptions,
  jobs: number,
  forwarded: string[],
): Promise<void> {
  const ids = await experiment.prepare(options);
  const unitsDir = join(options.outDir, 'units');
  const finished = async (): Promise<number> => {
    const files = new Set(await readdir(unitsDir));
    return ids.filter((id) => files.has(`${id}.json`)).length;
  };
  const threads = Math.min(MAX_WASM_THREADS, Math.max(1, Math.floor(os.availableParallelism() / jobs)));
  const bar = new ProgressBar({
    total: Math.max(1, ids.length),
    label: `${experiment.name} (${jobs} jobs × ${threads} threads)`,
  });
  const before = await finished();
  if (before > 0) bar.log(`resuming in ${options.outDir}: ${before} of ${ids.length} units already done`);
  // The bar's rate counts from its first update, so it is first drawn when a unit lands.
  let shown = before;
  const show = (count: number): void => {
    if (count !== shown) {
      shown = count;
      bar.update(shown);
    }
  };
  const gantry = fileURLToPath(new URL('../gantry.js', import.meta.url));
  const failures: string[] = [];
  const processes: ChildProcess[] = [];
  const children = Array.from({ length: jobs }, (_, index) => {
    const child = spawn(process.execPath, [gantry, 'experiment', experiment.name, ...forwarded, '--shard', `${index}/${jobs}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, GANTRY_WASM_THREADS: String(threads), [PARENT_ENV]: String(process.pid) },
    });
    processes.push(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    return new Promise<void>((resolveChild) => {
      child.on('error', (error) => {
        failures.push(`shard ${index}/${jobs} could not start: ${error.message}`);
        resolveChild();
      });
      child.on('close', (code) => {
        if (code !== 0)
          failures.push(
            `shard ${index}/${jobs} failed (exit status ${code}):\n${stderr.trim().split('\n').slice(-6).join('\n')}`,
          );
        resolveChild();
      });
    });
  });
  // Shards must not outlive the command: a rerun would start new ones on the same units.
  let stoppedBy: NodeJS.Signals | null = null;
  const stop = (signal: NodeJS.Signals): void => {
    if (stoppedBy !== null) return;
    stoppedBy = signal;
    bar.log(`${signal}: stopping the ${jobs} shards (a unit in flight is lost, finished ones are kept)`);
    for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, stop);
  const poll = setInterval(() => void finished().then(show, () => {}), 2000);
  try {
    await Promise.all(children);
  } finally {
    clearInterval(poll);
    for (const signal of signals) process.off(signal, stop);
  }
  bar.update(await finished());
  bar.finish();
  if (stoppedBy !== null)
    throw new Error(
      `stopped by ${stoppedBy}; finished units are kept in ${options.outDir} and the same command resumes from them`,
    );
  if (failures.length > 0)
    throw new Error(`${failures.join('\n')}\nFinished units are kept in ${options.outDir}; the same command resumes from them.`);
}
