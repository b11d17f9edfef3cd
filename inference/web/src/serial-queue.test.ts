import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialQueue } from './serial-queue.js';

test('jobs run one at a time in queue order; a failure rejects only its own job', async () => {
  const queue = new SerialQueue();
  const events: string[] = [];
  let running = 0;
  const job =
    (name: string, ms: number, fail = false) =>
    async () => {
      running++;
      assert.equal(running, 1, 'two jobs overlapped');
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
  const results = [queue.run(job('a', 20)), queue.run(job('b', 1, true)), queue.run(job('c', 5))];
  assert.equal(queue.pending, 3);
  const settled = await Promise.allSettled(results);
  assert.deepEqual(
    settled.map((s) => s.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.equal(queue.pending, 0);
});
