// Runs an experiment's units into its output folder (folder.ts), all of them or one shard's (shard.ts),
// then summarises them: the summary table, the plots and results.json.
import { join } from 'node:path';
import { writeFileAtomic } from '@gantry/files/atomic';
import { svgToPng } from '../plots/render.js';
import { ExperimentError } from './errors.js';
import type { Experiment, ExperimentSummary, ExperimentUnit } from './experiment.js';
import { prepareFolder, storedResults, UNIT_ID, unitFolder, unitsFolder, writeUnitResult } from './folder.js';
import { toJson } from './json.js';
import { applyOverrides } from './overrides.js';
import { checkShard, type Shard, unitsOfShard } from './shard.js';

export { ExperimentError } from './errors.js';

export type ExperimentEvent =
  | { type: 'start'; total: number; resumed: number }
  | { type: 'unit'; id: string; done: number; total: number; seconds: number }
  | { type: 'summary'; files: string[] };

export interface RunExperimentOptions {
  outDir: string;
  quick: boolean;
  /**
   * Parameter overrides, `key` (dotted for nested ones, e.g. "training.steps") → value as typed on a
   * command line; each must name an existing parameter and is converted to its type (arrays: comma-separated).
   */
  overrides?: Readonly<Record<string, string>>;
  /** Discard units computed earlier (needed when the parameters changed). */
  fresh?: boolean;
  onEvent?: (event: ExperimentEvent) => void;
  log?: (message: string) => void;
}

export interface ExperimentOutcome {
  summary: ExperimentSummary;
  /** Paths of the files the summary wrote. */
  files: string[];
}

/** A shard's outcome: the summary when it finished last, else the units other shards still owe. */
export type ShardOutcome = ExperimentOutcome | { pending: string[] };

export interface PreparedExperiment<P, U> {
  parameters: P;
  units: U[];
}

/**
 * Resolves the parameters and units and readies the output folder (discarding earlier units with
 * `fresh`), without running anything: what several shard processes need done once, before they start.
 */
export async function prepareExperiment<P extends object, U extends ExperimentUnit, R extends object>(
  experiment: Experiment<P, U, R>,
  options: RunExperimentOptions,
): Promise<PreparedExperiment<P, U>> {
  const mode = options.quick ? 'quick' : 'full';
  const parameters = applyOverrides(experiment.parameters[mode], options.overrides ?? {}, experiment.name);
  const units = experiment.units(parameters);
  const seen = new Set<string>();
  for (const unit of units) {
    if (!UNIT_ID.test(unit.id))
      throw new Error(
        `experiment ${experiment.name}: unit id ${JSON.stringify(unit.id)} is not file-safe (letters, digits, . _ = + -)`,
      );
    if (seen.has(unit.id)) throw new Error(`experiment ${experiment.name}: unit id ${unit.id} appears twice`);
    seen.add(unit.id);
  }
  await prepareFolder(options.outDir, { experiment: experiment.name, mode, parameters }, options.fresh ?? false);
  return { parameters, units };
}

/** Runs the units not yet done, then summarises all of them. */
export async function runExperiment<P extends object, U extends ExperimentUnit, R extends object>(
  experiment: Experiment<P, U, R>,
  options: RunExperimentOptions,
): Promise<ExperimentOutcome> {
  const outcome = await runUnits(experiment, options, undefined);
  if ('pending' in outcome)
    throw new Error(`experiment ${experiment.name}: units ${outcome.pending.join(', ')} have no result after a full run`);
  return outcome;
}

/**
 * Runs the units not yet done of one shard, units index, index + count, … of the list; writes the
 * summary if, when it is done, every unit of every shard has a result.
 */
export async function runExperimentShard<P extends object, U extends ExperimentUnit, R extends object>(
  experiment: Experiment<P, U, R>,
  options: RunExperimentOptions,
  shard: Shard,
): Promise<ShardOutcome> {
  checkShard(shard);
  if (options.fresh)
    throw new ExperimentError(
      `fresh with shard ${shard.index}/${shard.count} would delete the other shards' units: discard old units once, before the shards start`,
    );
  return runUnits(experiment, options, shard);
}

async function runUnits<P extends object, U extends ExperimentUnit, R extends object>(
  experiment: Experiment<P, U, R>,
  options: RunExperimentOptions,
  shard: Shard | undefined,
): Promise<ShardOutcome> {
  const mode = options.quick ? 'quick' : 'full';
  const { parameters, units } = await prepareExperiment(experiment, options);
  const { outDir } = options;
  const unitsDir = unitsFolder(outDir);
  const log = options.log ?? ((message: string) => console.error(message));
  const mine = unitsOfShard(units, shard);

  let results = await storedResults<U, R>(units, unitsDir);
  options.onEvent?.({ type: 'start', total: mine.length, resumed: mine.filter((unit) => results.has(unit.id)).length });

  let done = mine.filter((unit) => results.has(unit.id)).length;
  for (const unit of mine) {
    if (results.has(unit.id)) continue;
    const started = performance.now();
    const result = await experiment.run(unit, parameters, { unitDir: unitFolder(outDir, unit.id), log });
    const seconds = (performance.now() - started) / 1000;
    await writeUnitResult(outDir, { id: unit.id, unit, seconds, result });
    results.set(unit.id, result);
    done += 1;
    options.onEvent?.({ type: 'unit', id: unit.id, done, total: mine.length, seconds });
  }

  // Other shards may have finished units meanwhile.
  if (shard !== undefined) results = await storedResults<U, R>(units, unitsDir);
  const pending = units.filter((unit) => !results.has(unit.id)).map((unit) => unit.id);
  if (pending.length > 0) return { pending };

  const completed = units.map((unit) => ({ unit, result: results.get(unit.id)! }));
  const summary = await experiment.summarise(completed, parameters, { unitsDir });
  const files: string[] = [];
  for (const plot of summary.plots) {
    const path = join(outDir, `${plot.name}.png`);
    await writeFileAtomic(path, await svgToPng(plot.svg));
    files.push(path);
  }
  const summaryPath = join(outDir, 'summary.md');
  await writeFileAtomic(summaryPath, `# ${experiment.name} (${mode})\n\n${experiment.description}\n\n${summary.table}\n`);
  const resultsPath = join(outDir, 'results.json');
  await writeFileAtomic(
    resultsPath,
    toJson({ experiment: experiment.name, mode, parameters, summary: summary.numbers, units: completed }),
  );
  files.push(summaryPath, resultsPath);
  options.onEvent?.({ type: 'summary', files });
  return { summary, files };
}

/** An experiment with its types closed over, so experiments of different types can share a registry. */
export interface RegisteredExperiment {
  name: string;
  description: string;
  backend?: 'wasm' | 'cpu';
  run(options: RunExperimentOptions): Promise<ExperimentOutcome>;
  runShard(options: RunExperimentOptions, shard: Shard): Promise<ShardOutcome>;
  /** prepareExperiment: readies the folder; returns the ids of all units. */
  prepare(options: RunExperimentOptions): Promise<string[]>;
}

export function registerExperiment<P extends object, U extends ExperimentUnit, R extends object>(
  experiment: Experiment<P, U, R>,
): RegisteredExperiment {
  return {
    name: experiment.name,
    description: experiment.description,
    ...(experiment.backend ? { backend: experiment.backend } : {}),
    run: (options) => runExperiment(experiment, options),
    runShard: (options, shard) => runExperimentShard(experiment, options, shard),
    prepare: async (options) => (await prepareExperiment(experiment, options)).units.map((unit) => unit.id),
  };
}
