// ONNX's own checker, onnx.checker.check_model(full_check=True): the structural check plus strict
// shape and type inference over the whole graph. It runs in python3 with the onnx package (Debian's
// python3-onnx); importing onnx takes most of a second, so one process checks any number of models.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runTool } from './child-process.js';

// GANTRY_PYTHON (what `npm test`'s prerequisites step chose) comes first. The distribution's python3
// carries python3-onnx while a version manager's python3 may shadow it on PATH, so both are tried, then
// the project-local venv that step creates where neither can import onnx.
export const PYTHON_CANDIDATES: readonly string[] = [
  ...(process.env.GANTRY_PYTHON ? [process.env.GANTRY_PYTHON] : []),
  'python3',
  '/usr/bin/python3',
  fileURLToPath(new URL('../../.venv-onnx/bin/python', import.meta.url)),
];
export const ONNX_CHECKER_INSTALL_HINT =
  'install ONNX for python3: apt-get install python3-onnx (Debian/Ubuntu), or pip install onnx (npm test sets up .venv-onnx itself)';

/** ONNX's checker rejected a model, or was required and could not run. */
export class OnnxCheckerError extends GantryError {
  override name = 'OnnxCheckerError';
  constructor(message: string) {
    super('onnx-checker', message);
  }
}

let found: string | null | undefined;

/** The first python3 that can `import onnx`, or null when none can (looked up once). */
export function findPythonWithOnnx(): string | null {
  found ??=
    PYTHON_CANDIDATES.find((python) => spawnSync(python, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0) ?? null;
  return found;
}

export interface CheckerFailure {
  path: string;
  error: string;
}

export interface CheckerReport {
  /** The onnx package version that ran the check. */
  onnxVersion: string;
  /** The models that failed, with the checker's complaint; empty when all passed. */
  failures: CheckerFailure[];
}

const CHECK_SCRIPT = `
import json, sys, onnx
failures = []
for path in sys.argv[1:]:
    try:
        # A loaded model, not the path: given a path, full_check writes the inferred shapes back into the file.
        onnx.checker.check_model(onnx.load(path), full_check=True)
    except Exception as error:
        failures.append({"path": path, "error": str(error).strip()})
print(json.dumps({"onnxVersion": onnx.__version__, "failures": failures}))
`;
import { GantryError } from '@gantry/core';

/** Runs the checker with full shape inference over the ONNX files at `paths`, in one python3 process. */
export async function runOnnxChecker(
  paths: readonly string[],
  python: string | null = findPythonWithOnnx(),
): Promise<CheckerReport> {
  if (python === null)
    throw new OnnxCheckerError(
      `ONNX's checker needs a python3 that can import onnx (tried ${PYTHON_CANDIDATES.join(', ')}); ${ONNX_CHECKER_INSTALL_HINT}`,
    );
  const { code, stdout, stderr } = await runTool(python, ['-c', CHECK_SCRIPT, ...paths]).catch((error: unknown) => {
    throw new OnnxCheckerError(
      `cannot run ${python} for ONNX's checker: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  if (code !== 0)
    throw new OnnxCheckerError(
      `ONNX's checker (${python}) exited with status ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
  return JSON.parse(stdout) as CheckerReport;
}
