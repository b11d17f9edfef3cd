import assert from 'node:assert/strict';
import test from 'node:test';
import { GantryError } from '@gantry/core';
import { describeFailure } from './failure.js';

test('an expected error is its message alone, with or without --verbose', () => {
  const error = new GantryError('card-invalid', 'models/m/card.json: field "name" is missing; expected a non-empty string');
  for (const verbose of [false, true]) assert.equal(describeFailure(error, verbose), `error: ${error.message}`);
});

test('an unexpected error is one line plus the hint, and its stack only under --verbose', () => {
  const bug = new TypeError("Cannot read properties of undefined (reading 'shape')");
  const quiet = describeFailure(bug, false);
  assert.deepEqual(quiet.split('\n'), [
    `error: ${bug.message}`,
    '(an unexpected failure; run with --verbose for the stack trace)',
  ]);
  assert.match(describeFailure(bug, true), /^error: TypeError: Cannot read properties[^\n]*\n\s+at /);
  const internal = new GantryError('internal', 'an invariant broke', { expected: false });
  assert.match(describeFailure(internal, false), /run with --verbose/);
  assert.equal(describeFailure('a thrown string', false).split('\n')[0], 'error: a thrown string');
});
