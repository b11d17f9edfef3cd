import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnLines } from './turn-lines.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('TurnLines: the lines of one turn leave in one write, in order, by the end of the turn', async () => {
  const writes: string[] = [];
  const lines = new TurnLines((text) => writes.push(text));
  lines.line('a');
  await Promise.resolve(); // later in the same turn, as another request's close handler
  lines.line('b');
  lines.line('c');
  assert.deepEqual(writes, [], 'nothing is written mid-turn');
  await nextTurn();
  assert.deepEqual(writes, ['a\nb\nc\n']);
  lines.line('d');
  await nextTurn();
  assert.deepEqual(writes, ['a\nb\nc\n', 'd\n']);
  await nextTurn();
  assert.equal(writes.length, 2, 'an idle turn writes nothing');
});

test('TurnLines: flush writes the pending lines at once and only once', async () => {
  const writes: string[] = [];
  const lines = new TurnLines((text) => writes.push(text));
  lines.line('x');
  lines.flush();
  assert.deepEqual(writes, ['x\n']);
  lines.flush();
  await nextTurn();
  assert.deepEqual(writes, ['x\n']);
});
