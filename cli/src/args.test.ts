import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numberOption, UsageError } from './args.js';

test('numberOption: the fallback when absent; open and closed bounds; the interval in the message', () => {
  const rate = { min: 0, max: 1, minOpen: true };
  assert.equal(numberOption('c', 'rate', undefined, 0.25, rate), 0.25);
  assert.equal(numberOption('c', 'rate', '1', 0.25, rate), 1);
  assert.equal(numberOption('c', 'rate', '1e-3', 0.25, rate), 0.001);
  for (const bad of ['0', '1.5', 'abc', 'NaN', 'Infinity', '']) {
    assert.throws(
      () => numberOption('c', 'rate', bad, 0.25, rate),
      (e: unknown) =>
        e instanceof UsageError && e.message === `gantry c: --rate must be a number in (0, 1], got ${JSON.stringify(bad)}`,
    );
  }
  const fraction = { min: 0, max: 1, maxOpen: true };
  assert.equal(numberOption('c', 'dropout', '0', 0.25, fraction), 0);
  assert.throws(() => numberOption('c', 'dropout', '1', 0.25, fraction), /must be a number in \[0, 1\), got "1"/);
});
