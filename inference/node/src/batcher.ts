// Dynamic batching for one model: requests that arrive while the model is busy (or, while it is idle,
// in the same event-loop turn or within `maxWaitMs`) are merged into one onnxruntime run of at most
// `maxBatchRows` rows, which costs far less than running them one by one. The model never idles while
// work is queued: when a run ends, the next one starts at once with everything that queued meanwhile
// (a burst that finds the model idle is split in two, see SPLIT_BURST_ROWS). The queue is bounded (in
// rows), so a flood of requests is refused early with a retry hint instead of piling up; a request
// whose caller gave up (its AbortSignal fired) leaves the queue without costing a run.

import { GantryError } from '@gantry/core';

export interface BatcherOptions {
  /** Merge concurrent requests (default true); false runs every request on its own, in arrival order. */
  batching?: boolean;
  /** Most rows one merged run takes (default 64); a single larger request still runs, alone and in chunks. */
  maxBatchRows?: number;
  /**
   * How long the first queued request waits for company while the model is idle (default 0: until the
   * end of the current event-loop turn, so requests that arrived together, and are parsed in the same
   * turn, share the run; a longer wait only adds latency once the model is busy, when batches form anyway).
   * With a wait set, a burst found idle runs whole; with 0 it is split in two (see SPLIT_BURST_ROWS).
   */
  maxWaitMs?: number;
  /** Most rows waiting at once (default 4096); beyond it {@link QueueFullError}. */
  maxQueueRows?: number;
}

export const DEFAULT_MAX_BATCH_ROWS = 64;
export const DEFAULT_MAX_WAIT_MS = 0;
export const DEFAULT_MAX_QUEUE_ROWS = 4096;
/**
 * Fewest queued rows that an idle model splits into two runs. A run's fixed cost (a thread hop and
 * onnxruntime's per-run work, about 0.2 ms on a 2-core CPU) is repaid once each half holds two or more
 * requests' worth of HTTP work to overlap.
 */
export const SPLIT_BURST_ROWS = 4;

/** The model's queue is full: come back later (HTTP 429 with Retry-After). */
export class QueueFullError extends GantryError {
  override name = 'QueueFullError';
  constructor(
    message: string,
    /** Seconds after which a retry is likely to be accepted. */
    readonly retryAfterSeconds: number,
  ) {
    super('queue-full', message);
  }
}

/** The caller stopped waiting (its AbortSignal fired) before the work was done. */
export class WorkAbortedError extends GantryError {
  override name = 'WorkAbortedError';
  constructor() {
    super('aborted', 'the request was abandoned by its caller before it ran');
  }
}

/** Runs `rows` latents with their classes; returns the samples of every row, row-major. */
export type BatchRunner = (latents: Float32Array, rows: number, classes: Int32Array | undefined) => Promise<Float32Array>;

/** Told after every run: its rows and how many requests were merged into it. */
export type BatchObserver = (rows: number, requests: number) => void;

interface Job {
  latents: Float32Array;
  rows: number;
  classes: Int32Array | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  resolve: (samples: Float32Array) => void;
  reject: (error: unknown) => void;
}

export class Batcher {
  private readonly queue: Job[] = [];
  private queuedRows = 0;
  private running = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly observers = new Set<BatchObserver>();
  /** Rows per second of recent runs, for the Retry-After estimate. */
  private rowsPerSecond = 0;
  readonly batching: boolean;
  readonly maxBatchRows: number;
  readonly maxWaitMs: number;
  readonly maxQueueRows: number;

  constructor(
    private readonly runner: BatchRunner,
    /** Samples per row, to split a merged run's output. */
    private readonly sampleSize: number,
    options: BatcherOptions = {},
  ) {
    this.batching = options.batching ?? true;
    this.maxBatchRows = options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.maxQueueRows = options.maxQueueRows ?? DEFAULT_MAX_QUEUE_ROWS;
    const positive = (value: number, name: string, min: number): void => {
      if (!(Number.isInteger(value) && value >= min))
        throw new GantryError('batcher-option', `${name} must be an integer ≥ ${min}, got ${String(value)}`);
    };
    positive(this.maxBatchRows, 'maxBatchRows', 1);
    positive(this.maxWaitMs, 'maxWaitMs', 0);
    positive(this.maxQueueRows, 'maxQueueRows', 1);
  }

  /** Rows waiting (not yet running). */
  get depth(): number {
    return this.queuedRows;
  }

  /** Requests waiting (not yet running). */
  get waiting(): number {
    return this.queue.length;
  }

  onBatch(observer: BatchObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Queues `rows` latents (and classes); resolves with their samples once a run has included them. */
  submit(latents: Float32Array, rows: number, classes: Int32Array | undefined, signal?: AbortSignal): Promise<Float32Array> {
    if (signal?.aborted) return Promise.reject(new WorkAbortedError());
    // A request larger than the whole queue could never be accepted; it may run when the queue is empty.
    if (this.queuedRows > 0 && this.queuedRows + rows > this.maxQueueRows) {
      const seconds = this.rowsPerSecond > 0 ? Math.ceil(this.queuedRows / this.rowsPerSecond) : 1;
      throw new QueueFullError(
        `the model's queue is full (${this.queuedRows} rows waiting, at most ${this.maxQueueRows}); retry later`,
        Math.max(1, Math.min(60, seconds)),
      );
    }
    return new Promise<Float32Array>((resolve, reject) => {
      const job: Job = { latents, rows, classes, signal, onAbort: undefined, resolve, reject };
      if (signal !== undefined) {
        job.onAbort = () => {
          const index = this.queue.indexOf(job);
          if (index === -1) return; // already running: its result is simply dropped by the caller
          this.queue.splice(index, 1);
          this.queuedRows -= job.rows;
          reject(new WorkAbortedError());
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.queuedRows += rows;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const full = !this.batching || this.queuedRows >= this.maxBatchRows;
    if (full) {
      this.cancelWait();
      void this.flush();
    } else if (this.timer === undefined) {
      const flush = (): void => {
        this.timer = undefined;
        void this.flush();
      };
      this.timer = this.maxWaitMs === 0 ? setImmediate(flush) : setTimeout(flush, this.maxWaitMs);
    }
  }

  private cancelWait(): void {
    if (this.timer === undefined) return;
    if (this.maxWaitMs === 0) clearImmediate(this.timer as NodeJS.Immediate);
    else clearTimeout(this.timer as NodeJS.Timeout);
    this.timer = undefined;
  }

  private take(fromIdle: boolean): Job[] {
    const taken: Job[] = [this.queue.shift()!];
    let rows = taken[0]!.rows;
    if (this.batching) {
      // From idle, a burst is split in two: the model computes the second half while this thread answers
      // the first, and from then on the halves alternate, so the model and the HTTP work overlap instead
      // of taking turns (clients that each wait for their answer before asking again arrive in bursts).
      // A configured wait asks for full runs instead (a GPU, where run size matters more): no split.
      const limit =
        fromIdle && this.maxWaitMs === 0 && this.queuedRows >= SPLIT_BURST_ROWS
          ? Math.min(this.maxBatchRows, Math.ceil(this.queuedRows / 2))
          : this.maxBatchRows;
      while (this.queue.length > 0 && rows + this.queue[0]!.rows <= limit) {
        const job = this.queue.shift()!;
        rows += job.rows;
        taken.push(job);
      }
    }
    this.queuedRows -= rows;
    for (const job of taken) if (job.onAbort !== undefined) job.signal!.removeEventListener('abort', job.onAbort);
    return taken;
  }

  private async flush(fromIdle = true): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    this.cancelWait();
    const jobs = this.take(fromIdle);
    const rows = jobs.reduce((sum, job) => sum + job.rows, 0);
    const started = performance.now();
    try {
      const latents =
        jobs.length === 1
          ? jobs[0]!.latents
          : concatenate(
              jobs.map((job) => job.latents),
              Float32Array,
            );
      const withClasses = jobs[0]!.classes !== undefined;
      const classes = !withClasses
        ? undefined
        : jobs.length === 1
          ? jobs[0]!.classes
          : concatenate(
              jobs.map((job) => job.classes!),
              Int32Array,
            );
      const samples = await this.runner(latents, rows, classes);
      let row = 0;
      for (const job of jobs) {
        // Copies, so one caller's result does not keep the whole merged batch alive.
        job.resolve(jobs.length === 1 ? samples : samples.slice(row * this.sampleSize, (row + job.rows) * this.sampleSize));
        row += job.rows;
      }
      const seconds = (performance.now() - started) / 1000;
      if (seconds > 0)
        this.rowsPerSecond = this.rowsPerSecond === 0 ? rows / seconds : 0.8 * this.rowsPerSecond + 0.2 * (rows / seconds);
      for (const observer of this.observers) observer(rows, jobs.length);
    } catch (error) {
      for (const job of jobs) job.reject(error);
    } finally {
      this.running = false;
      // Whatever arrived during the run has waited long enough: run it now.
      if (this.queue.length > 0) void this.flush(false);
    }
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function concatenate<T extends Float32Array | Int32Array>(parts: T[], type: new (length: number) => T): T {
  const out = new type(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
