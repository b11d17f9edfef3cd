// gantry generate survives SIGKILL: rerun, it finishes with exactly the files of an uninterrupted job,
// byte for byte. gantry serve finishes an in-flight request on SIGTERM, then exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeNpy } from '@gantry/files/npy';
import { gantryBin, repoRoot, runGantry, startGantry } from './cli.js';

const MODEL = join(repoRoot, 'models', 'mnist-dcgan');
const N = 2000;

async function outputFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => !name.startsWith('.')).sort();
}

test(`gantry generate --n ${N}, killed with SIGKILL midway and rerun, equals an uninterrupted job`, async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-generate-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const whole = join(work, 'whole');
  const killed = join(work, 'killed');
  const args = (out: string): string[] => ['generate', '--model', MODEL, '--n', String(N), '--seed', '11', '--out', out];

  const uninterrupted = await runGantry(args(whole));
  assert.equal(uninterrupted.code, 0, uninterrupted.stderr);

  const child = spawn(process.execPath, [gantryBin, ...args(killed)], { cwd: repoRoot, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('close', resolve));
  let written = 0;
  while (written < N / 4) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    written = (await readdir(killed).catch(() => [])).filter((name) => name.endsWith('.png')).length;
  }
  child.kill('SIGKILL');
  await exited;
  const partial = (await readdir(killed)).filter((name) => name.endsWith('.png')).length;
  assert.ok(partial < N, `killed before the end (${partial} files)`);

  const resumed = await runGantry(args(killed));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming: \d+ of 2000 images already written/);
  const expected = await outputFiles(whole);
  assert.equal(expected.filter((name) => name.endsWith('.png')).length, N);
  assert.deepEqual(await outputFiles(killed), expected, 'the same files, no temporary ones left');
  for (const name of expected) assert.ok((await readFile(join(killed, name))).equals(await readFile(join(whole, name))), name);
  const manifest = JSON.parse(await readFile(join(whole, 'manifest.json'), 'utf8')) as { seeds: number[]; files: string[] };
  assert.deepEqual([manifest.seeds[0], manifest.seeds[N - 1], manifest.files.length], [11, 11 + N - 1, N]);
  assert.deepEqual(decodeNpy(await readFile(join(whole, 'latents.npy'))).shape, [N, 100]);
  const info = await sharp(join(whole, '001999.png')).metadata();
  assert.deepEqual([info.width, info.height], [28, 28]);

  // Another job in the same folder is refused instead of mixing files.
  const other = await runGantry(['generate', '--model', MODEL, '--n', String(N), '--seed', '12', '--out', killed]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /holds another job \(seed is 11 in the folder's manifest.json but 12 now\)/);
});

test('gantry generate --format npy writes shards the same as PNG files would be', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-generate-npy-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const result = await runGantry([
    'generate',
    '--model',
    MODEL,
    '--n',
    '250',
    '--format',
    'npy',
    '--shard-size',
    '100',
    '--batch',
    '50',
    '--out',
    work,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await outputFiles(work), [
    'latents.npy',
    'manifest.json',
    'shard-00000.npy',
    'shard-00001.npy',
    'shard-00002.npy',
  ]);
  const last = decodeNpy(await readFile(join(work, 'shard-00002.npy')));
  assert.deepEqual(last.shape, [50, 28, 28, 1]);
});

test('gantry serve finishes an in-flight request on SIGTERM, then exits', async () => {
  const { child, match } = await startGantry(
    ['serve', '--models', 'models', '--port', '0', '--device', 'cpu'],
    /serving \d+ model\(s\) at (http:\/\/\S+)/,
  );
  const url = match[1]!;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const inFlight = fetch(`${url}/v1/models/mnist-dcgan/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n: 256, seed: 1, scale: 4 }),
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  child.kill('SIGTERM');
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.ok((await response.arrayBuffer()).byteLength > 1000);
  assert.equal(await exited, 0);
});

test('gantry serve answers /healthz while a large batch is computed and encoded', async (t) => {
  const { child, match } = await startGantry(
    ['serve', '--models', 'models', '--port', '0', '--device', 'cpu'],
    /serving \d+ model\(s\) at (http:\/\/\S+)/,
  );
  t.after(() => child.kill('SIGKILL'));
  const url = match[1]!;
  const order: string[] = [];
  const big = fetch(`${url}/v1/models/mnist-dcgan/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n: 256, seed: 2, scale: 8 }),
  }).then(async (response) => {
    await response.arrayBuffer();
    order.push('generate');
  });
  await new Promise((resolve) => setTimeout(resolve, 15));
  const health = await fetch(`${url}/healthz`);
  order.push('health');
  assert.equal(health.status, 200);
  await big;
  assert.deepEqual(order, ['health', 'generate']);
});
