// An experiment's output folder, which makes runs resumable:
//   <out>/parameters.json   which experiment, quick or full, and the parameters the units were run with
//   <out>/units/<id>.json   one completed unit's result, written atomically as soon as the unit finishes
//   <out>/units/<id>/       files a unit keeps for itself (e.g. samples)
//   <out>/results.json      the summary's numbers and every unit's result
//   <out>/summary.md        the summary table
//   <out>/<plot>.png        the plots
// A rerun skips every unit whose result file exists, so a killed run loses at most the unit in flight.
// Several shard processes can share one folder (shard.ts); whichever finishes last writes the summary.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@gantry/files/atomic';
import { ExperimentError } from './errors.js';
import type { ExperimentUnit } from './experiment.js';
import { fromJson, toJson } from './json.js';

export const UNIT_ID = /^[A-Za-z0-9][A-Za-z0-9._=+-]*$/;

export interface StoredParameters {
  experiment: string;
  mode: 'quick' | 'full';
  parameters: unknown;
}

/**
 * Readies `outDir` for a run with `stored` parameters: with `fresh`, earlier units are discarded; without,
 * a folder holding results computed with other parameters is refused.
 */
export async function prepareFolder(outDir: string, stored: StoredParameters, fresh: boolean): Promise<void> {
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

export const unitsFolder = (outDir: string): string => join(outDir, 'units');
export const unitFolder = (outDir: string, id: string): string => join(unitsFolder(outDir), id);

/** The results of `units` completed so far (by any process). */
export async function storedResults<U extends ExperimentUnit, R>(units: readonly U[], unitsDir: string): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  const stored = new Set(await readdir(unitsDir));
  for (const unit of units) {
    if (!stored.has(`${unit.id}.json`)) continue;
    const path = join(unitsDir, `${unit.id}.json`);
    const entry = fromJson(await readFile(path, 'utf8')) as { id?: unknown; result?: R };
    if (entry.id !== unit.id || entry.result === undefined)
      throw new ExperimentError(`${path} is not a result of unit ${unit.id}; delete it to recompute the unit`);
    results.set(unit.id, entry.result);
  }
  return results;
}

/** Records one unit's result, atomically: a unit is done exactly when its file exists. */
export async function writeUnitResult(
  outDir: string,
  entry: { id: string; unit: unknown; seconds: number; result: unknown },
): Promise<void> {
  await writeFileAtomic(join(unitsFolder(outDir), `${entry.id}.json`), toJson(entry));
}
