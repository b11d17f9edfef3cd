// scripts/prerequisites.mjs (run by `npm test` before any test): it hands over the python it found, and
// where nothing can be set up it stops at once with the one command to run, never skipping silently.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './cli.js';

const script = join(repoRoot, 'scripts', 'prerequisites.mjs');

function prerequisites(env: Record<string, string>) {
  return spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, ...env } });
}

test('the python that can import onnx is chosen and handed over as GANTRY_PYTHON', () => {
  const python = process.env.GANTRY_PYTHON;
  assert.ok(python, 'npm test (scripts/run-tests.mjs) sets GANTRY_PYTHON');
  const result = prerequisites({ GANTRY_PYTHON_CANDIDATES: python });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^GANTRY_PYTHON=${python}$`, 'm'));
  assert.match(result.stderr, /prerequisites: ONNX's checker in .* \(onnx \d+\.\d+/);
});

test('without onnx, apt-get or pip it fails at once with the command to run', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'gantry-prereq-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  // The same interpreter without its site packages: a python3 that cannot import onnx.
  const withoutOnnx = join(work, 'python-without-onnx');
  await writeFile(withoutOnnx, `#!/bin/sh\nexec ${process.env.GANTRY_PYTHON ?? 'python3'} -S "$@"\n`);
  await chmod(withoutOnnx, 0o755);
  const venv = join(work, 'venv');
  const result = prerequisites({
    GANTRY_PYTHON_CANDIDATES: withoutOnnx,
    GANTRY_ONNX_VENV: venv,
    GANTRY_PREREQUISITES_NO_APT: '1',
    GANTRY_PREREQUISITES_NO_PIP: '1',
  });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^error: ONNX's checker needs a python3 that can import onnx/m);
  assert.match(result.stderr, new RegExp(`Run:\\n  python3 -m venv ${venv} && ${venv}/bin/python -m pip install onnx\\n`));
});

test('a missing Chromium stops the run with the command to install it', () => {
  const result = prerequisites({ GANTRY_CHROMIUM: '/nonexistent/chromium' });
  assert.equal(result.status, 1);
  assert.match(
    result.stderr,
    /Chromium at \/nonexistent\/chromium, which is missing\. Run:\n {2}sudo apt-get install -y chromium/,
  );
});
