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
    'bulk-connections': { type: 'string', default: '4' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const bulkSeconds = Number(values['bulk-seconds']);
const bulkConnections = Number(values['bulk-connections']);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const gantry = fileURLToPath(new URL('../../cli/dist/gantry.js', import.meta.url));

async function startServer(batching: 'on' | 'off'): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      gantry,
      'serve',
      '--models',
      'models',
      '--port',
      '0',
      '--device',
      'cpu',
      '--batching',
      batching,
      ...(values.threads !== undefined ? ['--threads', values.threads] : []),
    ],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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

/** Several loads, one after another: requests/s over all of them, the median p50 and the worst p99. */
function combine(loads: Load[]): Load {
  const seconds = loads.length;
  const p50s = loads.map((l) => l.p50).sort((a, b) => a - b);
  return {
    requestsPerSecond: loads.reduce((sum, l) => sum + l.requestsPerSecond, 0) / seconds,
    p50: p50s[Math.floor(p50s.length / 2)]!,
    p99: Math.max(...loads.map((l) => l.p99)),
    errors: loads.reduce((sum, l) => sum + l.errors, 0),
    requests: loads.reduce((sum, l) => sum + l.requests, 0),
  };
}

// The machine is shared: both sides of each ratio are measured in alternating rounds, so a burst of
// someone else's load falls on both.
const rounds = 3;
console.log(
  `bench:serve — model ${values.model}; onnxruntime threads: ${values.threads ?? 'one per core'}; ${rounds} alternating rounds per comparison`,
);
console.log(`1. ${connections} connections × ${duration} s on POST generate {"n":1} (PNG), batching on vs off`);
const servers = { on: await startServer('on'), off: await startServer('off') };
const loads: Record<'on' | 'off', Load[]> = { on: [], off: [] };
try {
  for (const batching of ['on', 'off'] as const)
    await load(servers[batching].url, { n: 1, seed: 1 }, 'image/png', 2, connections); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const batching of ['on', 'off'] as const)
      loads[batching].push(await load(servers[batching].url, { n: 1, seed: round }, 'image/png', duration / rounds, connections));
  }
} finally {
  await Promise.all([stopServer(servers.on.child), stopServer(servers.off.child)]);
}
const results = { on: combine(loads.on), off: combine(loads.off) };
console.log(show('batching on', results.on));
console.log(show('batching off', results.off));
const ratio = results.on.requestsPerSecond / results.off.requestsPerSecond;
const errorFree = results.on.errors === 0 && results.off.errors === 0;
console.log(
  `batching on / off: ${ratio.toFixed(2)}× requests/s (target ≥ 2×: ${ratio >= 2 ? 'met' : 'NOT met'}); errors: ${errorFree ? 'none' : 'some'}`,
);

// 2. n = 64 per request, raw float32, over HTTP beside the library in-process, in alternating rounds.
console.log(
  `2. generate {"n":64} as raw float32 over HTTP (${bulkConnections} connections) vs in-process Generator.generate, ${bulkSeconds} s each`,
);
const model = await openModelFolder(fileURLToPath(new URL(`../../models/${values.model}`, import.meta.url)), {
  device: 'cpu',
  ...(values.threads !== undefined ? { intraOpThreads: Number(values.threads) } : {}),
});
const server = await startServer('on');
let inProcessImages = 0;
let inProcessSeconds = 0;
const http: Load[] = [];
try {
  for (let i = 0; i < 5; i++) await model.generator.generate({ n: 64, seed: i });
  await load(server.url, { n: 64, seed: 1 }, 'application/octet-stream', 2, bulkConnections);
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    while (performance.now() - started < (bulkSeconds / rounds) * 1000)
      inProcessImages += (await model.generator.generate({ n: 64, seed: inProcessImages })).rows;
    inProcessSeconds += (performance.now() - started) / 1000;
    http.push(await load(server.url, { n: 64, seed: round }, 'application/octet-stream', bulkSeconds / rounds, bulkConnections));
  }
} finally {
  await model.close();
  await stopServer(server.child);
}
const bulk = combine(http);
const inProcess = inProcessImages / inProcessSeconds;
const httpImages = bulk.requestsPerSecond * 64;
const bulkRatio = httpImages / inProcess;
console.log(
  `n=64 raw float32: HTTP ${httpImages.toFixed(0)} images/s (p50 ${bulk.p50} ms, ${bulk.errors} errors) vs in-process Generator.generate ${inProcess.toFixed(0)} images/s`,
);
console.log(`HTTP / in-process: ${bulkRatio.toFixed(2)}× (target ≥ 0.5×: ${bulkRatio >= 0.5 ? 'met' : 'NOT met'})`);
