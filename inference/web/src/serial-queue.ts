// One model run at a time: onnxruntime-web sessions must not run concurrently, and a page that fires a
// run on every slider event would otherwise interleave them. Jobs run in the order they were queued; a
// failing job rejects its own promise only.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Jobs queued or running. */
  get pending(): number {
    return this.waiting;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(job).finally(() => {
      this.waiting--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
