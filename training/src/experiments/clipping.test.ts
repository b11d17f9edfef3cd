import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../backend/select.js';
import { runExperiment } from './runner.js';
import { clippingExperiment, type ClippingResult } from './clipping.js';

test('clipping --quick: one norm per critic layer; c = 0.001 leaves the critic’s gradients orders of magnitude below the penalised critic’s', async () => {
  await selectBackend('wasm');
  const out = await mkdtemp(join(tmpdir(), 'gantry-clipping-'));
  try {
    await runExperiment(clippingExperiment, { outDir: out, quick: true, log: () => {} });
    const p = clippingExperiment.parameters.quick;
    const units = (
      JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as {
        units: { unit: { id: string }; result: ClippingResult }[];
      }
    ).units;
    assert.deepEqual(
      units.map((u) => u.unit.id),
      ['clip_0.1', 'clip_0.01', 'clip_0.001', 'gradient_penalty'],
    );
    const final = (id: string): number[] => {
      const r = units.find((u) => u.unit.id === id)!.result;
      return r.layerNorms[r.layerNorms.length - 1]!;
    };
    for (const u of units) assert.equal(final(u.unit.id).length, p.criticDepth + 1);
    // With |w| ≤ c every layer scales the backward signal by at most c·width: a thousandth clip leaves almost nothing.
    const tiny = Math.max(...final('clip_0.001'));
    const penalised = Math.min(...final('gradient_penalty'));
    assert.ok(tiny * 100 < penalised, `c = 0.001: ${tiny}, penalty: ${penalised}`);
    assert.ok(Math.max(...final('clip_0.01')) < Math.max(...final('clip_0.1')));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
