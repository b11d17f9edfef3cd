import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassRequestError, resolveClasses } from './classes.js';
import { GantryError } from './errors.js';

const tenClasses = { name: 'class', classes: 10 };

function rejects(fn: () => unknown, message: RegExp, classes: number | null, parameter = 'class'): void {
  assert.throws(fn, (error: Error) => {
    assert.ok(error instanceof ClassRequestError, `${error.name}: ${error.message}`);
    assert.ok(error instanceof GantryError && error.expected && error.code === 'class-request');
    assert.equal(error.parameter, parameter);
    assert.equal(error.classes, classes);
    assert.match(error.message, message);
    return true;
  });
}

test('one class fills every sample; an array gives one per sample', () => {
  assert.deepEqual(resolveClasses(tenClasses, 3, 4), Int32Array.from([3, 3, 3, 3]));
  assert.deepEqual(resolveClasses(tenClasses, [0, 9, 4], 3), Int32Array.from([0, 9, 4]));
  assert.deepEqual(resolveClasses({ name: 'class', classes: 1 }, 0, 2), Int32Array.from([0, 0]));
});

test('an unconditional model takes no class and says so when given one', () => {
  assert.equal(resolveClasses(undefined, undefined, 5), undefined);
  rejects(
    () => resolveClasses(undefined, 2, 5, { model: 'digits' }),
    /^class was given \(2\) but model "digits" is unconditional: it has no class input; leave class out$/,
    null,
  );
  rejects(
    () => resolveClasses(undefined, [1], 1, { parameter: 'label' }),
    /^label was given \(\[1\]\) but the model is unconditional/,
    null,
    'label',
  );
});

test('a conditional model needs a class, and says which are allowed', () => {
  rejects(
    () => resolveClasses(tenClasses, undefined, 4, { model: 'acgan' }),
    /^class is required: model "acgan" is class-conditional with 10 classes; give an integer in \[0, 9\] for every sample, or an array of 4 such integers, one per sample$/,
    10,
  );
});

test('values that are not integers in range are refused with the position and the range', () => {
  for (const bad of [10, -1, 2.5, Number.NaN, Infinity]) {
    rejects(
      () => resolveClasses(tenClasses, bad, 2, { model: 'acgan' }),
      new RegExp(`^class must be an integer in \\[0, 9\\] \\(model "acgan" has 10 classes\\), got ${String(bad)}$`),
      10,
    );
  }
  rejects(() => resolveClasses(tenClasses, [1, 2, 12], 3), /^class\[2\] must be an integer in \[0, 9\] .*got 12$/, 10);
  rejects(() => resolveClasses(tenClasses, [1, '2'], 2), /^class\[1\] must be an integer .*got "2"$/, 10);
  rejects(
    () => resolveClasses(tenClasses, '3', 2),
    /^class must be an integer in \[0, 9\] for every sample, or an array of 2 such integers, one per sample; got "3"$/,
    10,
  );
  rejects(() => resolveClasses(tenClasses, null, 2), /got null$/, 10);
  rejects(
    () => resolveClasses(tenClasses, [1, 2], 3),
    /^class has 2 entries but 3 samples are asked for; give an integer in \[0, 9\]/,
    10,
  );
});
