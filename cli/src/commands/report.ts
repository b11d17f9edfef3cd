import { join } from 'node:path';
import { writeFileAtomic } from '@gantry/files/atomic';
import { buildReport } from '@gantry/training';
import { UsageError } from '../args.js';

export const reportUsage = `gantry report DIR [--out FILE.html]
  Writes one self-contained HTML page (plots and images inlined; works offline) for a run folder:
  loss curves, D(x) and D(G(z)), gradient norms, metric curves, the sample grid over time with a
  slider, the evaluation and the config; or for an experiment folder its tables and plots.
  Default FILE: DIR/report.html.`;

export async function reportCommand(argv: string[]): Promise<void> {
  const positional = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--out');
  const outIndex = argv.indexOf('--out');
  const unknown = argv.filter((a) => a.startsWith('--') && a !== '--out');
  if (unknown.length > 0) throw new UsageError(`gantry report: unknown option ${unknown[0]} (options: --out FILE.html)`);
  if (positional.length !== 1)
    throw new UsageError('gantry report: give one run or experiment folder, e.g. gantry report runs/mnist-dcgan');
  const folder = positional[0]!;
  const out = outIndex >= 0 ? argv[outIndex + 1] : join(folder, 'report.html');
  if (out === undefined) throw new UsageError('gantry report: --out needs a file name');
  await writeFileAtomic(out, await buildReport(folder));
  console.log(`wrote ${out}`);
}
