// The alternative converter: TensorFlow.js' own converter turns the layers model into a graph model,
// then tf2onnx converts that to ONNX:
//   tensorflowjs_converter --input_format=tfjs_layers_model --output_format=tfjs_graph_model model.json graph/
//   python3 -m tf2onnx.convert --tfjs graph/model.json --output model.onnx --opset 17
// Both tools are Python packages (pip install tensorflowjs tf2onnx, which bring TensorFlow); they are
// looked up before anything runs, and a missing one is reported with how to install it.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runTool } from './child-process.js';
import { ExportError } from './errors.js';

export const TF2ONNX_INSTALL_HINT =
  'install both with `pip install tensorflowjs tf2onnx` (they bring TensorFlow), or use the default --converter gantry, which needs neither';

export interface Tf2onnxTools {
  /** Path of the tensorflowjs_converter executable. */
  converter: string;
  /** A python3 that can import tf2onnx. */
  python: string;
}

export interface ToolCommand {
  command: string;
  args: string[];
}

function onPath(executable: string, env: NodeJS.ProcessEnv): string | null {
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, executable);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/**
 * Finds tensorflowjs_converter and a python3 with tf2onnx on `env.PATH`; throws an ExportError that
 * says which are missing and how to install them.
 */
export function locateTf2onnxTools(env: NodeJS.ProcessEnv = process.env): Tf2onnxTools {
  const converter = onPath('tensorflowjs_converter', env);
  const python = onPath('python3', env);
  const pythonHasTf2onnx = python !== null && spawnSync(python, ['-c', 'import tf2onnx'], { stdio: 'ignore', env }).status === 0;
  const missing = [
    ...(converter === null ? ['tensorflowjs_converter is not on PATH (pip package tensorflowjs)'] : []),
    ...(python === null
      ? ['there is no python3 on PATH']
      : pythonHasTf2onnx
        ? []
        : [`${python} cannot import tf2onnx (pip package tf2onnx)`]),
  ];
  if (missing.length > 0 || converter === null || python === null) {
    throw new ExportError(
      `--converter tf2onnx needs TensorFlow.js' converter and tf2onnx, which are not installed here: ${missing.join('; ')}. To use it, ${TF2ONNX_INSTALL_HINT}`,
    );
  }
  return { converter, python };
}

/** The two commands of the chain, layers model → graph model in `workDir`/graph → ONNX at `onnxPath`. */
export function tf2onnxCommands(
  tools: Tf2onnxTools,
  modelJson: string,
  workDir: string,
  onnxPath: string,
  opset: number,
): ToolCommand[] {
  const graphDir = join(workDir, 'graph');
  return [
    {
      command: tools.converter,
      args: ['--input_format=tfjs_layers_model', '--output_format=tfjs_graph_model', modelJson, graphDir],
    },
    {
      command: tools.python,
      args: ['-m', 'tf2onnx.convert', '--tfjs', join(graphDir, 'model.json'), '--output', onnxPath, '--opset', String(opset)],
    },
  ];
}

async function run({ command, args }: ToolCommand, env: NodeJS.ProcessEnv): Promise<void> {
  const { code, stderr } = await runTool(command, args, { env });
  if (code !== 0)
    throw new ExportError(
      `${command} ${args.join(' ')} failed (exit status ${code}): ${stderr.trim().split('\n').slice(-5).join('\n')}`,
    );
}

/** Converts a tfjs layers model.json to ONNX bytes with tensorflowjs_converter and tf2onnx. */
export async function convertWithTf2onnx(
  modelJson: string,
  opset: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Uint8Array> {
  const tools = locateTf2onnxTools(env);
  const workDir = await mkdtemp(join(tmpdir(), 'gantry-tf2onnx-'));
  try {
    const onnxPath = join(workDir, 'model.onnx');
    for (const command of tf2onnxCommands(tools, modelJson, workDir, onnxPath, opset)) await run(command, env);
    return new Uint8Array(await readFile(onnxPath));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
