// `npm run bench:serve`: the HTTP service under load, measured side by side in one run.
//  1. autocannon, 32 connections for 30 s on POST generate n=1 (PNG), against `gantry serve` with dynamic
//     batching on and then off: errors, p50/p99 latency, requests/s, and the ratio on/off (target ≥ 2×).
//  2. images/s of HTTP generate n=64 as raw float32 beside in-process Generator.generate n=64 on the same
//     model and thread settings (target ≥ 0.5×).
// The server runs as its own process (as users run it); the load generator shares the machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { openModelFolder } from '@gantry/inference-node';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    connections: { type: 'string', default: '32' },
    model: { type: 'string', default: 'mnist-dcgan' },
    'bulk-seconds': { type: 'string', default: '10' },
    threads: { type: 'string' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const bulkSeconds = Number(values['bulk-seconds']);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const gantry = fileURLToPath(new URL('../../cli/dist/gantry.js', import.meta.url));

async function startServer(batching: 'on' | 'off'): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [gantry, 'serve', '--models', 'models', '--port', '0', '--device', 'cpu', '--batching', batching, ...(values.threads !== undefined ? ['--threads', values.threads] : [])], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /serving \d+ model\(s\) at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('close', (code) => reject(new Error(`gantry serve exited (${code}):\n${output}`)));
  });
  // The per-request log lines are read and dropped.
  child.stdout!.removeAllListeners('data');
  child.stdout!.resume();
  return { url, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  await closed;
}

interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

async function load(url: string, body: object, accept: string, seconds: number, connectionCount: number): Promise<Load> {
  const result = await autocannon({
    url: `${url}/v1/models/${encodeURIComponent(values.model!)}/generate`,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify(body),
    connections: connectionCount,
    duration: seconds,
  });
  return {
    requestsPerSecond: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

function show(label: string, l: Load): string {
  return `${label.padEnd(14)} ${l.requestsPerSecond.toFixed(1).padStart(8)} req/s   p50 ${String(l.p50).padStart(4)} ms   p99 ${String(l.p99).padStart(4)} ms   ${l.requests} requests, ${l.errors} errors`;
}

console.log(`bench:serve — model ${values.model}, ${connections} connections × ${duration} s on POST generate {"n":1} (PNG); onnxruntime threads: ${values.threads ?? 'one per core'}`);
const results: Record<string, Load> = {};
for (const batching of ['on', 'off'] as const) {
  const { url, child } = await startServer(batching);
  try {
    await load(url, { n: 1, seed: 1 }, 'image/png', 2, connections); // warm-up
    results[batching] = await load(url, { n: 1, seed: 1 }, 'image/png', duration, connections);
    console.log(show(`batching ${batching}`, results[batching]!));
  } finally {
    await stopServer(child);
  }
}
const ratio = results.on!.requestsPerSecond / results.off!.requestsPerSecond;
const errorFree = results.on!.errors === 0 && results.off!.errors === 0;
console.log(`batching on / off: ${ratio.toFixed(2)}× requests/s (target ≥ 2×: ${ratio >= 2 ? 'met' : 'NOT met'}); errors: ${errorFree ? 'none' : 'some'}`);

// Bulk: n = 64 per request, raw float32, over HTTP beside the library in-process.
const model = await openModelFolder(fileURLToPath(new URL(`../../models/${values.model}`, import.meta.url)), { device: 'cpu', ...(values.threads !== undefined ? { intraOpThreads: Number(values.threads) } : {}) });
let inProcess: number;
try {
  for (let i = 0; i < 5; i++) await model.generator.generate({ n: 64, seed: i });
  let images = 0;
  const started = performance.now();
  while (performance.now() - started < bulkSeconds * 1000) {
    images += (await model.generator.generate({ n: 64, seed: images })).rows;
  }
  inProcess = images / ((performance.now() - started) / 1000);
} finally {
  await model.close();
}
const { url, child } = await startServer('on');
let http: Load;
try {
  await load(url, { n: 64, seed: 1 }, 'application/octet-stream', 2, 2);
  http = await load(url, { n: 64, seed: 1 }, 'application/octet-stream', bulkSeconds, 2);
} finally {
  await stopServer(child);
}
const httpImages = http.requestsPerSecond * 64;
const bulkRatio = httpImages / inProcess;
console.log(`n=64 raw float32: HTTP ${httpImages.toFixed(0)} images/s (p50 ${http.p50} ms, ${http.errors} errors, 2 connections) vs in-process Generator.generate ${inProcess.toFixed(0)} images/s`);
console.log(`HTTP / in-process: ${bulkRatio.toFixed(2)}× (target ≥ 0.5×: ${bulkRatio >= 0.5 ? 'met' : 'NOT met'})`);
