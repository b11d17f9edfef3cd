// The model-folder swap under failure: every file-system step of writeModelFolder is made to fail in
// turn, and afterwards the folder must hold a valid card + ONNX pair (the old one, or the new one when
// the swap got that far), the old folder's other files, and no temporary left behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { GantryError, isExpectedError, parseCard, type ModelCard } from '@gantry/core';
import { checkFolderPath, removeStaleTemporaries, writeFolderAtomic, type FolderSteps } from './atomic.js';
import { CARD_FILE, ONNX_FILE, readModelFolder, writeModelFolder } from './model-folder.js';

function cardFor(name: string, onnx: Uint8Array, dataset: string): ModelCard {
  return parseCard({
    format: 'gantry-model-card/1',
    name,
    dataset,
    latent: { size: 4, distribution: 'normal' },
    output: { shape: [2, 2, 1], layout: 'NHWC', range: [-1, 1] },
    onnx: {
      file: ONNX_FILE,
      opset: 17,
      sha256: createHash('sha256').update(onnx).digest('hex'),
      inputName: 'latent',
      outputName: 'images',
      batch: null,
    },
    parity: { maxAbsDiff: 0, samples: 1 },
    createdAt: '2026-01-01T00:00:00.000Z',
  });
}

const oldBytes = new Uint8Array([1, 2, 3]);
const newBytes = new Uint8Array([4, 5, 6, 7]);

async function modelsWithOldModel(): Promise<{ models: string; folder: string }> {
  const models = await mkdtemp(join(tmpdir(), 'gantry-swap-'));
  const folder = join(models, 'm');
  await writeModelFolder(folder, cardFor('m', oldBytes, 'old'), oldBytes);
  await writeFile(join(folder, 'train.json'), '{"kept":true}');
  return { models, folder };
}

type Step = keyof FolderSteps;

const realSteps: FolderSteps = {
  mkdir: (path) => mkdir(path, { recursive: true }).then(() => {}),
  write: (path, data) => writeFile(path, data),
  copy: (from, to) => cp(from, to, { recursive: true }),
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { recursive: true, force: true }),
};

/** The real steps, but `step` fails on its `nth` call (1-based) with an injected EIO. */
function failing(step: Step, nth = 1): Partial<FolderSteps> {
  let calls = 0;
  const real = realSteps[step] as (...args: unknown[]) => Promise<void>;
  return {
    [step]: async (...args: unknown[]) => {
      calls += 1;
      if (calls === nth) throw Object.assign(new Error(`EIO: injected ${step} failure`), { code: 'EIO', syscall: step });
      return real(...args);
    },
  };
}

const cases: { step: Step; nth: number; what: string; after: 'old' | 'new' }[] = [
  { step: 'mkdir', nth: 1, what: 'creating the new folder', after: 'old' },
  { step: 'write', nth: 1, what: 'writing the ONNX file', after: 'old' },
  { step: 'write', nth: 2, what: 'writing the card', after: 'old' },
  { step: 'copy', nth: 1, what: 'copying the kept files', after: 'old' },
  { step: 'rename', nth: 1, what: 'moving the old folder aside', after: 'old' },
  { step: 'rename', nth: 2, what: 'renaming the new folder in', after: 'old' },
  { step: 'remove', nth: 1, what: 'removing the old folder', after: 'new' },
];

for (const { step, nth, what, after } of cases) {
  test(`a failure ${what} leaves the ${after} model whole, its other files and no temporary`, async (t) => {
    const { models, folder } = await modelsWithOldModel();
    t.after(() => rm(models, { recursive: true, force: true }));
    const write = writeModelFolder(folder, cardFor('m', newBytes, 'new'), newBytes, { steps: failing(step, nth) });
    if (after === 'old') {
      await assert.rejects(write, (error: unknown) => {
        assert.ok(isExpectedError(error), `a GantryError, got ${String(error)}`);
        assert.match((error as Error).message, new RegExp(`${folder}.*injected ${step} failure`));
        return true;
      });
    } else {
      await write;
    }
    const model = await readModelFolder(models, 'm');
    assert.equal(model.card.dataset, after);
    assert.deepEqual(new Uint8Array(await readFile(model.onnxPath)), after === 'old' ? oldBytes : newBytes);
    assert.equal(await readFile(join(folder, 'train.json'), 'utf8'), '{"kept":true}');
    const left = (await readdir(models)).filter((name) => name !== 'm');
    if (after === 'new') {
      // Removing the old folder failed: it is a hidden temporary that the next write removes.
      assert.equal(left.length, 1);
      assert.deepEqual(await removeStaleTemporaries(models), []);
      await writeModelFolder(folder, cardFor('m', newBytes, 'newer'), newBytes);
    }
    assert.deepEqual((await readdir(models)).filter((name) => name !== 'm').length, after === 'new' ? 1 : 0);
  });
}

test('when the new folder cannot be renamed in nor the old one back, the message says where both are', async (t) => {
  const { models, folder } = await modelsWithOldModel();
  t.after(() => rm(models, { recursive: true, force: true }));
  let renames = 0;
  const steps: Partial<FolderSteps> = {
    rename: async (from, to) => {
      renames += 1;
      if (renames >= 2) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      await rename(from, to);
    },
  };
  await assert.rejects(
    writeModelFolder(folder, cardFor('m', newBytes, 'new'), newBytes, { steps }),
    /the old folder is at .*\.tmp and the new one at .*\.tmp: rename one of them to/,
  );
});

test('a new model folder is created; a file where the folder should be is refused by name', async (t) => {
  const models = await mkdtemp(join(tmpdir(), 'gantry-swap-'));
  t.after(() => rm(models, { recursive: true, force: true }));
  await writeModelFolder(join(models, 'fresh'), cardFor('fresh', newBytes, 'new'), newBytes);
  assert.equal((await readModelFolder(models, 'fresh')).card.dataset, 'new');
  await writeFile(join(models, 'file'), 'not a folder');
  for (const path of [join(models, 'file'), join(models, 'file', 'below')]) {
    await assert.rejects(writeModelFolder(path, cardFor('file', newBytes, 'x'), newBytes), (error: unknown) => {
      assert.ok(error instanceof GantryError && error.code === 'not-a-folder');
      assert.match(error.message, /file.* is a file, not a folder/);
      return true;
    });
  }
  await assert.rejects(checkFolderPath(join(models, 'file'), '--out'), /^GantryError: --out: .*file is a file/);
  await checkFolderPath(join(models, 'missing', 'deeper'), '--out');
});

test('temporaries of dead writers are removed, those of live ones kept', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-stale-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // pid 2^22 + 1 is above Linux's default pid_max, so no process has it.
  const dead = `.12.${4194305}.0badcafe.tmp`;
  const live = `.13.${process.pid}.0badcafe.tmp`;
  await mkdir(join(dir, dead));
  await writeFile(join(dir, dead, 'weights.bin'), 'x');
  await mkdir(join(dir, live));
  await writeFile(join(dir, '.config.json.4194305.12345678.tmp'), '{');
  await mkdir(join(dir, '12'));
  assert.deepEqual((await removeStaleTemporaries(dir)).sort(), ['.12.4194305.0badcafe.tmp', '.config.json.4194305.12345678.tmp']);
  assert.deepEqual((await readdir(dir)).sort(), [live, '12'].sort());
});

test('writeFolderAtomic replaces a folder whole: nothing of the old one survives unless kept', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-folder-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const target = join(dir, 'f');
  await writeFolderAtomic(target, async (write) => {
    await write('a/one.txt', '1');
    await write('two.txt', '2');
  });
  await writeFolderAtomic(target, async (write) => write('three.txt', '3'));
  assert.deepEqual((await readdir(target)).sort(), ['three.txt']);
  assert.deepEqual(await readdir(dir), ['f']);
  assert.equal(CARD_FILE, 'card.json');
});
