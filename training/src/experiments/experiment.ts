// What an experiment is: named units of work with quick and full parameters, a function that runs
// one unit to a JSON result, and a summary (numbers, a table, plots) over all completed units.
// The runner (runner.ts) owns the output folder, resuming and progress; an experiment only computes.

/** One unit of work. `id` names its result file, so it must be unique within the experiment and file-safe. */
export interface ExperimentUnit {
  id: string;
}

export interface UnitContext {
  /** A folder for this unit's own files (e.g. samples as .npy); it survives a resume. Created on first use by the unit. */
  unitDir: string;
  /** Prints a line without garbling the progress bar. */
  log(message: string): void;
}

export interface SummaryContext {
  /** Folder of the unit folders (`UnitContext.unitDir` of unit `id` is `<unitsDir>/<id>`). */
  unitsDir: string;
}

export interface Plot {
  /** File name without extension: `<name>.png` in the output folder. */
  name: string;
  svg: string;
}

export interface ExperimentSummary {
  /** The experiment's headline numbers, written to results.json. */
  numbers: object;
  /** A Markdown table, printed at the end and written to summary.md. */
  table: string;
  plots: Plot[];
}

/**
 * `P`: the parameters (JSON-serialisable; stored with the results so a resume cannot mix settings).
 * `U`: a unit of work. `R`: one unit's result (JSON-serialisable; ±Infinity and NaN survive, see runner.ts).
 */
export interface Experiment<P extends object, U extends ExperimentUnit, R extends object> {
  name: string;
  /** One line for `gantry experiment --list` and the help text. */
  description: string;
  /**
   * The tfjs backend it trains on unless the user picks another (the faster one measured for its
   * models); absent for experiments that run no tfjs code.
   */
  backend?: 'wasm' | 'cpu';
  /** `quick` must finish in seconds: CI runs it. */
  parameters: { quick: P; full: P };
  units(parameters: P): U[];
  run(unit: U, parameters: P, context: UnitContext): Promise<R>;
  summarise(completed: ReadonlyArray<{ unit: U; result: R }>, parameters: P, context: SummaryContext): Promise<ExperimentSummary>;
}
