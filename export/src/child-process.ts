// Runs the external tools the exporter leans on (ONNX's checker in python3, the tf2onnx chain) and
// collects what they print, so each caller only decides what a failure means for its user.
import { spawn } from 'node:child_process';

export interface ToolRun {
  /** Exit status; null when the process was killed by a signal. */
  code: number | null;
  stdout: string;
  /** The last `stderrLimit` characters of standard error. */
  stderr: string;
}

/**
 * Runs `command args` to completion. Rejects only when the process cannot be started (the error of
 * `spawn`); a non-zero exit is the caller's to judge.
 */
export async function runTool(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stderrLimit?: number } = {},
): Promise<ToolRun> {
  const limit = options.stderrLimit ?? 4000;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-limit)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return { code, stdout, stderr };
}
