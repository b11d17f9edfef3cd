// Runs an experiment into an output folder, resumably:
//   <out>/parameters.json   which experiment, quick or full, and the parameters the units were run with
//   <out>/units/<id>.json   one completed unit's result, written atomically as soon as the unit finishes
//   <out>/units/<id>/       files a unit keeps for itself (e.g. samples)
//   <out>/results.json      the summary's numbers and every unit's result
//   <out>/summary.md        the summary table
//   <out>/<plot>.png        the plots
// A rerun skips every unit whose result file exists, so a killed run loses at most the unit in flight.
// Units are independent, so several processes can share one folder: with `shard` a process runs only
// every count-th unit (from `index`), and whichever finishes last writes the summary.
// JSON has no ±Infinity or NaN; results write them as the strings "Infinity", "-Infinity" and "NaN"
// and unit results are read back with those strings turned into numbers again.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@gantry/files/atomic';
import { svgToPng } from '../plots/render.js';
import type { Experiment, ExperimentSummary, ExperimentUnit } from './experiment.js';

export class ExperimentError extends Error {
  override name = 'ExperimentError';
}

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

const UNIT_ID = /^[A-Za-z0-9][A-Za-z0-9._=+-]*$/;

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
}

export function fromJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v));
}

interface StoredParameters {
  experiment: string;
  mode: 'quick' | 'full';
  parameters: unknown;
}

async function prepareFolder(outDir: string, stored: StoredParameters, fresh: boolean): Promise<void> {
  const unitsDir = join(outDir, 'units');
  const parametersPath = join(outDir, 'parameters.json');
  const wanted = toJson(stored);
  await mkdir(outDir, { recursive: true });
  if (fresh) {
    await rm(unitsDir, { recursive: true, force: true });
    await writeFileAtomic(parametersPath, wanted);
  } else {
    // Created only where absent, in one step (a hard link fails when the name exists), so shards that
    // start together settle on one set of parameters and the others compare against it.
    const staged = `${parametersPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(staged, wanted);
    try {
      await link(staged, parametersPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(staged, { force: true });
    }
    const previous = await readFile(parametersPath, 'utf8');
    if (previous !== wanted) {
      const old = fromJson(previous) as Partial<StoredParameters>;
      throw new ExperimentError(
        `${outDir} holds results of ${old.experiment ?? 'another experiment'} (${old.mode ?? 'unknown'} mode) computed with other parameters than this ${stored.experiment} (${stored.mode}) run; ` +
          'pass --fresh to discard them (once, before any shards start), or choose another --out folder',
      );
    }
  }
  await mkdir(unitsDir, { recursive: true });
}

function describeKeys(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? describeKeys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function convert(text: string, like: unknown, key: string): unknown {
  if (Array.isArray(like)) {
    const element: unknown = like[0] ?? '';
    return text === '' ? [] : text.split(',').map((part) => convert(part.trim(), element, key));
  }
  if (typeof like === 'number') {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw new ExperimentError(`parameter ${key} must be a number, got ${JSON.stringify(text)}`);
    return value;
  }
  if (typeof like === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new ExperimentError(`parameter ${key} must be true or false, got ${JSON.stringify(text)}`);
    return text === 'true';
  }
  return text;
}

/** `parameters` with `overrides` applied (a deep copy); unknown keys are an error listing the known ones. */
export function applyOverrides<P extends object>(parameters: P, overrides: Readonly<Record<string, string>>, experiment: string): P {
  const copy = JSON.parse(JSON.stringify(parameters)) as P;
  for (const [key, text] of Object.entries(overrides)) {
    const path = key.split('.');
    let node = copy as Record<string, unknown>;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node = {};
      else node = next as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (!(last in node) || (typeof node[last] === 'object' && node[last] !== null && !Array.isArray(node[last]))) {
      throw new ExperimentError(`experiment ${experiment} has no parameter ${JSON.stringify(key)}; its parameters: ${describeKeys(parameters).join(', ')}`);
    }
    node[last] = convert(text, node[last], key);
  }
  return copy;
}

export interface PreparedExperiment<P, U> {
  parameters: P;
  units: U[];
}

/**
 * Resolves the parameters and units and readies the output folder (discarding earlier units with
 * `fresh`), without running anything: what several shard processes need done once, before they start.
 */
export async function prepareExperiment<P extends object, U extends ExperimentUnit, R extends object>(experiment: Experiment<P, U, R>, options: RunExperimentOptions): Promise<PreparedExperiment<P, U>> {
  const mode = options.quick ? 'quick' : 'full';
  const parameters = applyOverrides(experiment.parameters[mode], options.overrides ?? {}, experiment.name);
  const units = experiment.units(parameters);
  const seen = new Set<string>();
  for (const unit of units) {
    if (!UNIT_ID.test(unit.id)) throw new Error(`experiment ${experiment.name}: unit id ${JSON.stringify(unit.id)} is not file-safe (letters, digits, . _ = + -)`);
    if (seen.has(unit.id)) throw new Error(`experiment ${experiment.name}: unit id ${unit.id} appears twice`);
    seen.add(unit.id);
  }
  await prepareFolder(options.outDir, { experiment: experiment.name, mode, parameters }, options.fresh ?? false);
  return { parameters, units };
}

async function storedResults<U extends ExperimentUnit, R>(units: readonly U[], unitsDir: string): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  const stored = new Set(await readdir(unitsDir));
  for (const unit of units) {
    if (!stored.has(`${unit.id}.json`)) continue;
    const path = join(unitsDir, `${unit.id}.json`);
    const entry = fromJson(await readFile(path, 'utf8')) as { id?: unknown; result?: R };
    if (entry.id !== unit.id || entry.result === undefined) throw new ExperimentError(`${path} is not a result of unit ${unit.id}; delete it to recompute the unit`);
    results.set(unit.id, entry.result);
  }
  return results;
}

function checkShard(shard: { index: number; count: number }): void {
  const { index, count } = shard;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
    throw new ExperimentError(`shard must be INDEX/COUNT with integers 0 ≤ INDEX < COUNT, got ${index}/${count}`);
  }
}

/** Runs the units not yet done, then summarises all of them. */
export async function runExperiment<P extends object, U extends ExperimentUnit, R extends object>(experiment: Experiment<P, U, R>, options: RunExperimentOptions): Promise<ExperimentOutcome> {
  const outcome = await runUnits(experiment, options, undefined);
  if ('pending' in outcome) throw new Error(`experiment ${experiment.name}: units ${outcome.pending.join(', ')} have no result after a full run`);
  return outcome;
}

/**
 * Runs the units not yet done of one shard, units index, index + count, … of the list; writes the
 * summary if, when it is done, every unit of every shard has a result.
 */
export async function runExperimentShard<P extends object, U extends ExperimentUnit, R extends object>(
  experiment: Experiment<P, U, R>,
  options: RunExperimentOptions,
  shard: { index: number; count: number },
): Promise<ShardOutcome> {
  checkShard(shard);
  if (options.fresh) throw new ExperimentError(`fresh with shard ${shard.index}/${shard.count} would delete the other shards' units: discard old units once, before the shards start`);
  return runUnits(experiment, options, shard);
}

async function runUnits<P extends object, U extends ExperimentUnit, R extends object>(experiment: Experiment<P, U, R>, options: RunExperimentOptions, shard: { index: number; count: number } | undefined): Promise<ShardOutcome> {
  const mode = options.quick ? 'quick' : 'full';
  const { parameters, units } = await prepareExperiment(experiment, options);
  const { outDir } = options;
  const unitsDir = join(outDir, 'units');
  const log = options.log ?? ((message: string) => console.error(message));
  const mine = shard === undefined ? units : units.filter((_, i) => i % shard.count === shard.index);

  let results = await storedResults<U, R>(units, unitsDir);
  options.onEvent?.({ type: 'start', total: mine.length, resumed: mine.filter((unit) => results.has(unit.id)).length });

  let done = mine.filter((unit) => results.has(unit.id)).length;
  for (const unit of mine) {
    if (results.has(unit.id)) continue;
    const started = performance.now();
    const result = await experiment.run(unit, parameters, { unitDir: join(unitsDir, unit.id), log });
    const seconds = (performance.now() - started) / 1000;
    await writeFileAtomic(join(unitsDir, `${unit.id}.json`), toJson({ id: unit.id, unit, seconds, result }));
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
  await writeFileAtomic(resultsPath, toJson({ experiment: experiment.name, mode, parameters, summary: summary.numbers, units: completed }));
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
  runShard(options: RunExperimentOptions, shard: { index: number; count: number }): Promise<ShardOutcome>;
  /** prepareExperiment: readies the folder; returns the ids of all units. */
  prepare(options: RunExperimentOptions): Promise<string[]>;
}

export function registerExperiment<P extends object, U extends ExperimentUnit, R extends object>(experiment: Experiment<P, U, R>): RegisteredExperiment {
  return { name: experiment.name, description: experiment.description, ...(experiment.backend ? { backend: experiment.backend } : {}), run: (options) => runExperiment(experiment, options),
    runShard: (options, shard) => runExperimentShard(experiment, options, shard),
    prepare: async (options) => (await prepareExperiment(experiment, options)).units.map((unit) => unit.id),
  };
}
