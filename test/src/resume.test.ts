// Nothing is lost on a crash: a run killed with SIGKILL resumes from its last complete checkpoint and,
// because the RNG state is checkpointed too, ends with exactly the weights of an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGantry, startGantry } from './cli.js';

const config = {
  name: 'resume',
  seed: 11,
  data: { dataset: 'mnist', limit: 500 },
  model: { latentSize: 16, generatorWidth: 16, discriminatorWidth: 8 },
  training: { steps: 12, batchSize: 16 },
  logging: { logEvery: 1, sampleEvery: 100, checkpointEvery: 4, sampleCount: 4 },
};

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a run killed with SIGKILL resumes to the same weights as an uninterrupted run', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-resume-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const configPath = join(work, 'train.json');
  await writeFile(configPath, JSON.stringify(config));

  const straight = await runGantry(['train', '--config', configPath, '--run', join(work, 'straight'), '--backend', 'wasm']);
  assert.equal(straight.code, 0, straight.stderr);

  const killedRun = join(work, 'killed');
  const { child } = await startGantry(
    ['train', '--config', configPath, '--run', killedRun, '--backend', 'wasm'],
    /training resume/,
  );
  await waitFor(async () => (await readdir(join(killedRun, 'checkpoints')).catch(() => [] as string[])).includes('4'), 120_000);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  const survivors = (await readdir(join(killedRun, 'checkpoints'))).filter((n) => /^\d+$/.test(n));
  assert.ok(survivors.length >= 1 && !survivors.includes('12'), `killed before the end, left ${survivors.join(', ')}`);

  const again = await runGantry(['train', '--config', configPath, '--run', killedRun, '--backend', 'wasm']);
  assert.notEqual(again.code, 0, 'a second plain start refuses to overwrite the run');
  assert.match(again.stderr, /--resume/);

  const resumed = await runGantry(['train', '--run', killedRun, '--resume', '--backend', 'wasm']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming from/);

  for (const player of ['generator', 'discriminator']) {
    const a = await readFile(join(work, 'straight', 'checkpoints', '12', player, 'weights.bin'));
    const b = await readFile(join(killedRun, 'checkpoints', '12', player, 'weights.bin'));
    assert.ok(a.equals(b), `${player} weights after resume equal the uninterrupted run's`);
  }
  const steps = (await readFile(join(killedRun, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(
    steps,
    Array.from({ length: 12 }, (_, i) => i + 1),
    'the log has every step once',
  );
});

test('Ctrl-C (SIGINT) writes a checkpoint of the step reached and says how to resume', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-sigint-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const configPath = join(work, 'train.json');
  await writeFile(
    configPath,
    JSON.stringify({
      ...config,
      training: { ...config.training, steps: 100000 },
      logging: { ...config.logging, checkpointEvery: 100000 },
    }),
  );
  const runDir = join(work, 'run');
  const { child, output } = await startGantry(
    ['train', '--config', configPath, '--run', runDir, '--backend', 'wasm'],
    /training resume/,
  );
  await waitFor(async () => (await readFile(join(runDir, 'log.jsonl'), 'utf8').catch(() => '')).split('\n').length > 3, 120_000);
  child.kill('SIGINT');
  const code = await new Promise((r) => child.once('close', r));
  assert.equal(code, 130);
  const checkpoints = (await readdir(join(runDir, 'checkpoints'))).filter((n) => /^\d+$/.test(n));
  assert.equal(checkpoints.length, 1);
  const state = JSON.parse(await readFile(join(runDir, 'checkpoints', checkpoints[0]!, 'state.json'), 'utf8')) as {
    step: number;
  };
  assert.ok(state.step >= 3 && state.step < 100000, `checkpoint at step ${state.step}`);
  assert.match(output(), /resume with: gantry train --run .* --resume/);
});

test('bad input: unknown config key, export without checkpoint, serve with no models', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-bad-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const configPath = join(work, 'bad.json');
  await writeFile(configPath, JSON.stringify({ training: { stepz: 3 } }));
  const bad = await runGantry(['train', '--config', configPath, '--run', join(work, 'run')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown key "stepz" at "training"/);
  assert.doesNotMatch(bad.stderr, /at \w+ \(/, 'no stack trace for a config error');

  const exported = await runGantry(['export', '--run', join(work, 'empty-run'), '--out', join(work, 'models', 'x')]);
  assert.equal(exported.code, 1);
  assert.match(exported.stderr, /no complete checkpoint/);

  const served = await runGantry(['serve', '--models', join(work, 'no-models'), '--port', '0']);
  assert.equal(served.code, 1);
  assert.match(served.stderr, /no-models/);
});
