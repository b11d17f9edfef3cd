// Every CLI command against the faults a person meets: a damaged config.json or state.json in a run
// folder, a damaged card, a path that is a file where a folder belongs, a rename that fails while an
// export replaces a model. Each must end with exit code 1 and a one-line `error: ...` naming the file,
// never a stack trace; an export that fails leaves the previous model servable. Resuming passes over a
// damaged newest checkpoint for the previous one and removes temporaries of killed writes.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CliResult, runGantry } from './cli.js';

const config = {
  name: 'faults',
  seed: 5,
  data: { dataset: 'mnist', limit: 200 },
  model: { latentSize: 8, generatorWidth: 8, discriminatorWidth: 4 },
  training: { steps: 4, batchSize: 8 },
  logging: { logEvery: 1, sampleEvery: 100, checkpointEvery: 2, sampleCount: 4 },
};

const failRename = fileURLToPath(new URL('./fail-rename.js', import.meta.url));
const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

function assertCleanFailure(result: CliResult, message: RegExp, what: string): void {
  assert.equal(result.code, 1, `${what}: exit code 1\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, STACK_LINE, `${what}: no stack trace\n${result.stderr}`);
  assert.match(result.stderr, /^error: /m, `${what}: an "error: ..." line\n${result.stderr}`);
  assert.match(result.stderr, message, `${what}: the message\n${result.stderr}`);
}

test('every command fails cleanly on damaged files and misplaced paths', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-faults-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const configPath = join(work, 'train.json');
  await writeFile(configPath, JSON.stringify(config));
  const run = join(work, 'run');
  const trained = await runGantry(['train', '--config', configPath, '--run', run, '--backend', 'wasm']);
  assert.equal(trained.code, 0, trained.stderr);
  const models = join(work, 'models');
  const exported = await runGantry(['export', '--run', run, '--out', join(models, 'm'), '--checker', 'skip']);
  assert.equal(exported.code, 0, exported.stderr);
  const aFile = join(work, 'a-file');
  await writeFile(aFile, 'not a folder');

  const damaged = async (name: string, damage: (dir: string) => Promise<void>): Promise<string> => {
    const dir = join(work, name);
    await cp(run, dir, { recursive: true });
    await damage(dir);
    return dir;
  };
  const badConfig = await damaged('bad-config', (dir) => writeFile(join(dir, 'config.json'), '{"name": "faults", '));
  const badState = await damaged('bad-state', async (dir) => {
    for (const step of await readdir(join(dir, 'checkpoints')))
      await writeFile(join(dir, 'checkpoints', step, 'state.json'), '{"step": 4');
  });
  const badModels = join(work, 'bad-models');
  await cp(models, badModels, { recursive: true });
  await writeFile(join(badModels, 'm', 'card.json'), '{"format": ');

  const cases: [string, string[], RegExp][] = [
    [
      'train --resume, damaged config.json',
      ['train', '--run', badConfig, '--resume'],
      /bad-config\/config.json is not valid JSON/,
    ],
    [
      'export, damaged config.json',
      ['export', '--run', badConfig, '--out', join(work, 'out1')],
      /bad-config\/config.json is not valid JSON/,
    ],
    ['sample, damaged config.json', ['sample', '--run', badConfig, '--out', join(work, 's.png')], /JSON/],
    [
      'train --resume, damaged state.json',
      ['train', '--run', badState, '--resume'],
      /no checkpoint loads.*state.json is not valid JSON/,
    ],
    ['export, damaged state.json', ['export', '--run', badState, '--out', join(work, 'out2')], /state.json is not valid JSON/],
    ['serve, damaged card.json', ['serve', '--models', badModels, '--port', '0'], /bad-models\/m\/card.json/],
    ['sample, damaged card.json', ['sample', '--model', join(badModels, 'm'), '--out', join(work, 's.png')], /card.json/],
    ['export --out at a file', ['export', '--run', run, '--out', aFile], /--out.*a-file is a file, not a folder/],
    [
      'export --out below a file',
      ['export', '--run', run, '--out', join(aFile, 'm')],
      /a-file \(in .*\) is a file, not a folder/,
    ],
    ['train --run at a file', ['train', '--config', configPath, '--run', aFile], /--run.*a-file is a file, not a folder/],
    [
      'experiment --out at a file',
      ['experiment', 'divergences', '--quick', '--out', aFile],
      /--out.*a-file is a file, not a folder/,
    ],
    ['serve --models at a file', ['serve', '--models', aFile, '--port', '0'], /a-file is not a directory/],
    ['an unknown option', ['export', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [what, args, message] of cases) assertCleanFailure(await runGantry(args, { timeoutMs: 120_000 }), message, what);

  // A rename that fails while the export replaces models/m: the old pair stays in place and servable.
  const before = await readFile(join(models, 'm', 'card.json'), 'utf8');
  const failed = await runGantry(['export', '--run', run, '--step', '2', '--out', join(models, 'm'), '--checker', 'skip'], {
    nodeArgs: ['--import', failRename],
    env: { GANTRY_FAIL_RENAME: join(models, '.m.') },
  });
  assertCleanFailure(
    failed,
    /cannot replace .*models\/m: moving the old folder aside failed \(EIO.*\); it is unchanged/,
    'export, failed rename',
  );
  assert.equal(await readFile(join(models, 'm', 'card.json'), 'utf8'), before);
  assert.deepEqual(await readdir(models), ['m'], 'no temporary left beside the model');
  const sampled = await runGantry(['sample', '--model', join(models, 'm'), '--n', '4', '--out', join(work, 'ok.png')]);
  assert.equal(sampled.code, 0, sampled.stderr);
});

test('resume passes over a damaged newest checkpoint, says which and why, and removes stale temporaries', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-fallback-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const configPath = join(work, 'train.json');
  await writeFile(configPath, JSON.stringify({ ...config, training: { ...config.training, steps: 6 } }));
  const run = join(work, 'run');
  // Train to step 4 (checkpoints 2 and 4), then damage checkpoint 4 and leave what a killed write leaves.
  await writeFile(join(work, 'short.json'), JSON.stringify(config));
  const short = await runGantry(['train', '--config', join(work, 'short.json'), '--run', run, '--backend', 'wasm']);
  assert.equal(short.code, 0, short.stderr);
  await writeFile(
    join(run, 'config.json'),
    `${JSON.stringify({ ...JSON.parse(await readFile(join(run, 'config.json'), 'utf8')), training: { ...config.training, steps: 6 } }, null, 2)}\n`,
  );
  await writeFile(join(run, 'checkpoints', '4', 'generator', 'weights.bin'), new Uint8Array(3));
  const stale = join(run, 'checkpoints', '.6.4194305.0badcafe.tmp');
  await mkdir(stale);
  await writeFile(join(stale, 'state.json'), '{');
  await writeFile(join(run, '.log.jsonl.4194305.12345678.tmp'), 'torn');

  const resumed = await runGantry(['train', '--run', run, '--resume', '--backend', 'wasm']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /warning: skipped checkpoint .*checkpoints\/4: .*the weight files hold 3 bytes/);
  assert.match(resumed.stderr, /removed .*\.6\.4194305\.0badcafe\.tmp, left by a write that was killed/);
  assert.match(resumed.stderr, /resuming from .*checkpoints\/2\b/);
  assert.deepEqual((await readdir(join(run, 'checkpoints'))).sort(), ['2', '4', '6']);
  assert.ok(!(await readdir(run)).some((name) => name.endsWith('.tmp')));
  const steps = (await readFile(join(run, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6], 'the log restarts after step 2');
});
