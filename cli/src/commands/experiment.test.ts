import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experimentCommand } from './experiment.js';

const gantry = fileURLToPath(new URL('../gantry.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [gantry, 'experiment', ...args], { encoding: 'utf8' });

test('gantry experiment divergences --quick writes plots and numbers, prints the table and resumes', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-cli-experiment-'));
  try {
    const first = run('divergences', '--quick', '--out', out);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^\| θ +\| W +\| W1 \(OT, samples\)/);
    assert.match(first.stderr, /divergences █+ 21\/21/);
    assert.deepEqual((await readdir(out)).sort(), [
      'divergences.png',
      'kl.png',
      'parameters.json',
      'results.json',
      'samples.png',
      'summary.md',
      'units',
    ]);
    const again = run('divergences', '--quick', '--out', out);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /21 of 21 units already done/);
    assert.equal(again.stdout, first.stdout);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('gantry experiment names the experiments it knows', async () => {
  await assert.rejects(experimentCommand(['nope']), /unknown experiment "nope"; experiments: divergences/);
  await assert.rejects(
    experimentCommand(['--quick']),
    /name an experiment \(gantry experiment NAME\); experiments:\ndivergences: /,
  );
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
  try {
    await experimentCommand(['--list']);
  } finally {
    process.stdout.write = write;
  }
  assert.match(written.join(''), /^divergences: W, JS and KL/m);
});

test('gantry experiment --set overrides a parameter by name, and names the parameters when the key is unknown', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-cli-experiment-'));
  try {
    const ok = run('divergences', '--quick', '--out', out, '--set', 'thetaSteps=4', '--set', 'samples=20');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /divergences █+ 5\/5/);
    const unknown = run('divergences', '--quick', '--out', out, '--fresh', '--set', 'steps=4');
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /experiment divergences has no parameter "steps"; its parameters: .*thetaSteps, samples/);
    await assert.rejects(experimentCommand(['divergences', '--set', 'samples']), /--set takes KEY=VALUE/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('gantry experiment --jobs 2 splits the units over two processes and gives the one-process results', async () => {
  const single = await mkdtemp(join(tmpdir(), 'gantry-cli-experiment-'));
  const parallel = await mkdtemp(join(tmpdir(), 'gantry-cli-experiment-'));
  try {
    const one = run('divergences', '--quick', '--out', single, '--set', 'thetaSteps=6');
    assert.equal(one.status, 0, one.stderr);
    const two = run('divergences', '--quick', '--out', parallel, '--set', 'thetaSteps=6', '--jobs', '2');
    assert.equal(two.status, 0, two.stderr);
    assert.match(two.stderr, /divergences \(2 jobs × \d+ threads\) █+ 7\/7/);
    assert.equal(two.stdout, one.stdout, 'same table');
    const units = (await readdir(join(parallel, 'units'))).filter((f) => f.endsWith('.json'));
    assert.equal(units.length, 7);
  } finally {
    await rm(single, { recursive: true, force: true });
    await rm(parallel, { recursive: true, force: true });
  }
});

test('gantry experiment --shard runs every N-th unit and the last shard summarises', async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-cli-experiment-'));
  try {
    const first = run('divergences', '--quick', '--out', out, '--set', 'thetaSteps=4', '--shard', '0/2');
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /shard 0\/2 done; 2 units of other shards have no result yet/);
    assert.equal(first.stdout, '');
    const second = run('divergences', '--quick', '--out', out, '--set', 'thetaSteps=4', '--shard', '1/2');
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /^\| θ /);
    for (const bad of ['2/2', '1', 'a/b'])
      await assert.rejects(experimentCommand(['divergences', '--shard', bad]), /--shard takes I\/N with 0 ≤ I < N/);
    await assert.rejects(
      experimentCommand(['divergences', '--shard', '0/2', '--fresh']),
      /--fresh with --shard would delete the other shards' units/,
    );
    await assert.rejects(
      experimentCommand(['divergences', '--shard', '0/2', '--jobs', '2']),
      /--jobs and --shard exclude each other/,
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

/** Pids of live processes whose environment names `parent` as their --jobs parent (Linux /proc). */
async function shardsOf(parent: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(`GANTRY_EXPERIMENT_PARENT=${parent}`)) pids.push(Number(entry));
  }
  return pids;
}

test('gantry experiment --jobs stops its shards when it is stopped', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async () => {
  const out = await mkdtemp(join(tmpdir(), 'gantry-cli-experiment-'));
  try {
    // Full-size OT units take seconds each, so the shards are busy when the signal comes.
    const parent = spawn(
      process.execPath,
      [gantry, 'experiment', 'divergences', '--out', out, '--set', 'samples=1500', '--jobs', '2'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    parent.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const closed = new Promise<number | null>((resolve) => parent.on('close', resolve));
    let shards: number[] = [];
    for (let i = 0; i < 100 && shards.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      shards = await shardsOf(parent.pid!);
    }
    assert.equal(shards.length, 2, 'two shards started');
    parent.kill('SIGTERM');
    assert.notEqual(await closed, 0);
    assert.match(stderr, /SIGTERM: stopping the 2 shards[\s\S]*stopped by SIGTERM; finished units are kept/);
    assert.deepEqual(await shardsOf(parent.pid!), [], 'no shard outlives the command');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
