// `gantry report`: one self-contained HTML page for a run folder or an experiment folder. uPlot (its
// minified IIFE build and stylesheet) and every image are inlined, so the page works offline and can be
// mailed as one file.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { GantryError } from '@gantry/core';

interface LogLine {
  step: number;
  [key: string]: unknown;
}

/** The series the page plots, each a chart of numeric log fields against the step. */
const CHARTS: Array<{ title: string; fields: Array<[field: string, label: string]>; note: string; log?: boolean }> = [
  {
    title: 'Losses',
    fields: [
      ['discriminator', 'D loss'],
      ['generator', 'G loss'],
    ],
    note: 'per logged step',
  },
  {
    title: 'Discriminator outputs',
    fields: [
      ['realScore', 'D(x)'],
      ['fakeScore', 'D(G(z))'],
    ],
    note: 'mean over the batch',
  },
  {
    title: 'Gradient norms',
    fields: [
      ['discriminatorGradientNorm', '‖∇D‖'],
      ['generatorGradientNorm', '‖∇G‖'],
    ],
    note: 'global L2 norm of each player’s last update (log scale)',
    log: true,
  },
  { title: 'Penalty', fields: [['penalty', 'penalty']], note: 'gradient penalty or R1 term' },
  { title: 'Throughput', fields: [['imagesPerSecond', 'images/s']], note: 'images per second' },
];

/** Metric fields a run's log may carry under `metrics` (logging.evaluateEvery). */
const METRIC_LABELS: Record<string, string> = {
  inceptionScore: 'Inception-style score',
  confident: 'confident share',
  classesCovered: 'classes covered',
  classMaxMinRatio: 'class max/min ratio',
  frechetDistance: 'Fréchet distance',
  modes: 'modes',
  highQualityFraction: 'high quality share',
  reverseKl: 'reverse KL',
};

function uplotAssets(): { script: string; style: string } {
  const require = createRequire(import.meta.url);
  const dist = join(require.resolve('uplot/package.json'), '..', 'dist');
  return { script: join(dist, 'uPlot.iife.min.js'), style: join(dist, 'uPlot.min.css') };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON for a <script> element: no "</script>" can close it early. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function dataUri(path: string): Promise<string> {
  return `data:image/png;base64,${(await readFile(path)).toString('base64')}`;
}

function parseLog(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as LogLine;
        return typeof parsed.step === 'number' ? [parsed] : [];
      } catch {
        return []; // a line cut short by a kill mid-write
      }
    });
}

interface Series {
  title: string;
  note: string;
  /** A logarithmic y axis (values ≤ 0 are left out). */
  log?: boolean;
  steps: number[];
  lines: Array<{ label: string; values: Array<number | null> }>;
}

function seriesFromLog(log: LogLine[]): Series[] {
  const charts: Series[] = [];
  for (const chart of CHARTS) {
    const lines = chart.fields
      .filter(([field]) => log.some((l) => typeof l[field] === 'number'))
      .map(([field, label]) => ({ label, values: log.map((l) => (typeof l[field] === 'number' ? (l[field] as number) : null)) }));
    if (lines.length === 0) continue;
    if (chart.title === 'Penalty' && lines.every((line) => line.values.every((v) => v === null || v === 0))) continue;
    const shown =
      chart.log === true
        ? lines.map((line) => ({ ...line, values: line.values.map((v) => (v !== null && v > 0 ? v : null)) }))
        : lines;
    charts.push({
      title: chart.title,
      note: chart.note,
      steps: log.map((l) => l.step),
      lines: shown,
      ...(chart.log === true ? { log: true } : {}),
    });
  }
  const withMetrics = log.filter((l) => typeof l.metrics === 'object' && l.metrics !== null);
  const metricNames = [...new Set(withMetrics.flatMap((l) => Object.keys(l.metrics as object)))];
  for (const name of metricNames) {
    charts.push({
      title: METRIC_LABELS[name] ?? name,
      note: 'evaluated during training',
      steps: withMetrics.map((l) => l.step),
      lines: [
        {
          label: METRIC_LABELS[name] ?? name,
          values: withMetrics.map((l) => (l.metrics as Record<string, number>)[name] ?? null),
        },
      ],
    });
  }
  return charts;
}

async function sampleFrames(runDir: string): Promise<Array<{ step: number; src: string }>> {
  const files = await readdir(join(runDir, 'samples')).catch(() => [] as string[]);
  const steps = files
    .filter((f) => /^\d+\.png$/.test(f))
    .map((f) => Number(f.slice(0, -4)))
    .sort((a, b) => a - b);
  return Promise.all(steps.map(async (step) => ({ step, src: await dataUri(join(runDir, 'samples', `${step}.png`)) })));
}

/** A markdown table (| a | b |) as an HTML table; other lines become paragraphs. */
function markdownToHtml(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim().startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i]!.trim().startsWith('|')) {
        const cells = lines[i]!.trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim());
        if (!cells.every((c) => /^:?-+:?$/.test(c))) rows.push(cells);
        i++;
      }
      i--;
      const [head, ...body] = rows;
      out.push(
        `<table><thead><tr>${head!.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${body
          .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`,
      );
    } else if (line.startsWith('# ')) {
      out.push(`<h2>${escapeHtml(line.slice(2))}</h2>`);
    } else if (line.trim() !== '') {
      out.push(`<p>${escapeHtml(line)}</p>`);
    }
  }
  return out.join('\n');
}

const STYLE = `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #6b7385; --line: #e3e6ec; --accent: #3b6fe0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
header { padding: 28px 40px 20px; background: linear-gradient(120deg, #22304f, #3b6fe0); color: #fff; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header p { margin: 0; opacity: .8; }
main { padding: 24px 40px 48px; display: grid; gap: 20px; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 16px; margin: 0 0 2px; }
.note { color: var(--muted); font-size: 13px; margin: 0 0 10px; }
.facts { display: flex; flex-wrap: wrap; gap: 12px; }
.fact { background: var(--bg); border-radius: 8px; padding: 8px 14px; min-width: 120px; }
.fact b { display: block; font-size: 18px; }
.fact span { color: var(--muted); font-size: 12px; }
.grid-view { display: flex; gap: 18px; align-items: flex-start; flex-wrap: wrap; }
.grid-view img { image-rendering: pixelated; width: 336px; max-width: 100%; border-radius: 6px; border: 1px solid var(--line); }
input[type=range] { width: 100%; accent-color: var(--accent); margin: 8px 0; }
#frame-step { font-size: 20px; font-weight: 600; margin: 4px 0; }
pre { background: #0f1522; color: #d6e0f5; padding: 14px; border-radius: 8px; overflow: auto; font-size: 12.5px; max-height: 420px; }
table { border-collapse: collapse; font-size: 13.5px; }
td, th { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; }
td:first-child, th:first-child { text-align: left; }
th { color: var(--muted); font-weight: 600; }
.plots img { max-width: 100%; border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
`;

/** The page script: one uPlot chart per series, sized to its section; the sample slider. */
const PAGE_SCRIPT = `
const data = JSON.parse(document.getElementById('report-data').textContent);
const colours = ['#3b6fe0', '#e0663b', '#2a9d6b', '#9b59b6'];
for (const [index, chart] of data.charts.entries()) {
  const host = document.getElementById('chart-' + index);
  const opts = {
    width: host.clientWidth, height: 240,
    series: [{ label: 'step' }, ...chart.lines.map((line, i) => ({ label: line.label, stroke: colours[i % colours.length], width: 1.5, spanGaps: true }))],
    axes: [{ label: 'step' }, {}],
    scales: { x: { time: false }, ...(chart.log ? { y: { distr: 3 } } : {}) },
    legend: { live: true },
  };
  const plot = new uPlot(opts, [chart.steps, ...chart.lines.map((line) => line.values)], host);
  new ResizeObserver(() => plot.setSize({ width: host.clientWidth, height: 240 })).observe(host);
}
const slider = document.getElementById('frame');
if (slider) {
  const image = document.getElementById('grid');
  const label = document.getElementById('frame-step');
  const show = () => { const frame = data.frames[Number(slider.value)]; image.src = frame.src; label.textContent = 'step ' + frame.step; };
  slider.addEventListener('input', show);
  show();
}
`;

function fact(value: string, label: string): string {
  return `<div class="fact"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`;
}

function page(
  title: string,
  subtitle: string,
  sections: string[],
  data: unknown,
  uplot: { script: string; style: string },
): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${uplot.style}</style><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><p>${escapeHtml(subtitle)}</p></header>
<main>
${sections.join('\n')}
</main>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${uplot.script}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

function chartSections(charts: Series[]): string[] {
  return charts.map(
    (chart, index) =>
      `<section><h2>${escapeHtml(chart.title)}</h2><p class="note">${escapeHtml(chart.note)}</p><div id="chart-${index}"></div></section>`,
  );
}

function evaluationSection(evaluation: Record<string, unknown>): string {
  const result = evaluation.evaluation as
    | { generator?: Record<string, unknown>; realVsReal?: Record<string, unknown> }
    | undefined;
  if (result?.generator === undefined || result.realVsReal === undefined) return '';
  const rows = Object.keys(result.generator).filter(
    (key) => typeof result.generator![key] === 'number' || typeof result.generator![key] === 'string',
  );
  const cell = (v: unknown): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : escapeHtml(String(v ?? '—'));
  return `<section><h2>Evaluation</h2><p class="note">gantry eval, ${escapeHtml(String(evaluation.samples))} samples, the generator beside the test split</p>
<table><thead><tr><th>measure</th><th>generator</th><th>real vs real</th></tr></thead><tbody>${rows
    .map(
      (key) =>
        `<tr><td>${escapeHtml(key)}</td><td>${cell(result.generator![key])}</td><td>${cell(result.realVsReal![key])}</td></tr>`,
    )
    .join('')}</tbody></table></section>`;
}

async function runReport(runDir: string, configText: string): Promise<string> {
  const log = parseLog((await readOptional(join(runDir, 'log.jsonl'))) ?? '');
  const charts = seriesFromLog(log);
  const frames = await sampleFrames(runDir);
  const last = log.at(-1);
  const evaluationText = await readOptional(join(runDir, 'eval.json'));
  const config = JSON.parse(configText) as { name?: string; training?: { steps?: number } };
  const facts = [
    fact(String(last?.step ?? 0), `of ${config.training?.steps ?? '?'} steps`),
    fact(last === undefined ? '—' : `${Math.round(Number(last.wallSeconds ?? 0) / 60)} min`, 'training wall time'),
    fact(String(last?.backend ?? '—'), 'backend'),
    fact(last === undefined ? '—' : Number(last.discriminator).toFixed(3), 'last D loss'),
    fact(last === undefined ? '—' : Number(last.generator).toFixed(3), 'last G loss'),
  ];
  const sections = [
    `<section class="wide"><h2>Run</h2><p class="note">${escapeHtml(runDir)}</p><div class="facts">${facts.join('')}</div></section>`,
    frames.length === 0
      ? ''
      : `<section class="wide"><h2>Samples over time</h2><p class="note">the same fixed latents at every sample step; drag the slider</p>
<div class="grid-view"><img id="grid" alt="sample grid"><div style="flex:1;min-width:220px"><input id="frame" type="range" min="0" max="${frames.length - 1}" value="${frames.length - 1}"><p id="frame-step"></p></div></div></section>`,
    ...chartSections(charts),
    evaluationText === null ? '' : evaluationSection(JSON.parse(evaluationText) as Record<string, unknown>),
    `<section class="wide"><h2>Config</h2><p class="note">config.json, every default filled in</p><pre>${escapeHtml(JSON.stringify(JSON.parse(configText), null, 2))}</pre></section>`,
  ];
  return page(
    `${config.name ?? basename(runDir)} · training report`,
    `gantry report · ${log.length} logged steps · ${frames.length} sample grids`,
    sections,
    { charts, frames },
    await loadUplot(),
  );
}

async function experimentReport(folder: string, summary: string): Promise<string> {
  const files = await readdir(folder);
  const plots = await Promise.all(
    files
      .filter((f) => f.endsWith('.png'))
      .sort()
      .map(async (f) => ({ name: f, src: await dataUri(join(folder, f)) })),
  );
  const parameters = await readOptional(join(folder, 'parameters.json'));
  const sections = [
    `<section class="wide">${markdownToHtml(summary)}</section>`,
    ...plots.map(
      (p) =>
        `<section class="plots"><h2>${escapeHtml(p.name.replace(/\.png$/, ''))}</h2><img alt="${escapeHtml(p.name)}" src="${p.src}"></section>`,
    ),
    parameters === null ? '' : `<section class="wide"><h2>Parameters</h2><pre>${escapeHtml(parameters)}</pre></section>`,
  ];
  return page(
    `${basename(folder)} · experiment report`,
    'gantry report',
    sections,
    { charts: [], frames: [] },
    await loadUplot(),
  );
}

async function loadUplot(): Promise<{ script: string; style: string }> {
  const paths = uplotAssets();
  return { script: await readFile(paths.script, 'utf8'), style: await readFile(paths.style, 'utf8') };
}

/** The report page of a run folder (config.json) or an experiment folder (summary.md). */
export async function buildReport(folder: string): Promise<string> {
  const config = await readOptional(join(folder, 'config.json'));
  if (config !== null) return runReport(folder, config);
  const summary = await readOptional(join(folder, 'summary.md'));
  if (summary !== null) return experimentReport(folder, summary);
  throw new GantryError('report-folder', `${folder} is neither a run folder (config.json) nor an experiment folder (summary.md)`);
}
