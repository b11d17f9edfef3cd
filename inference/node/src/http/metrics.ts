// Prometheus metrics for one server (a registry of its own, so several servers in one process, as in
// tests, do not collide): requests by route and status, latency, merged batch sizes, queue depth and
// rejections.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelRegistry } from '../registry.js';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route'>;
  readonly batchRows: Histogram<'model'>;
  readonly batchRequests: Histogram<'model'>;
  readonly rejections: Counter<'reason'>;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(models: ModelRegistry) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'gantry_http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'gantry_http_request_duration_seconds',
      help: 'time from request to the end of the response',
      labelNames: ['route'],
      buckets: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30],
      registers,
    });
    this.batchRows = new Histogram({
      name: 'gantry_batch_rows',
      help: 'latent rows per onnxruntime run',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.batchRequests = new Histogram({
      name: 'gantry_batch_requests',
      help: 'requests merged into one onnxruntime run',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    this.rejections = new Counter({
      name: 'gantry_rejections_total',
      help: 'requests refused before running: queue_full, work_limit, draining, host, timeout',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'gantry_queue_rows',
      help: 'latent rows waiting for a run, per model',
      labelNames: ['model'],
      registers,
      collect() {
        for (const name of models.names()) this.set({ model: name }, models.generator(name).batcher.depth);
      },
    });
    for (const name of models.names()) {
      this.unsubscribe.push(
        models.generator(name).batcher.onBatch((rows, requests) => {
          this.batchRows.observe({ model: name }, rows);
          this.batchRequests.observe({ model: name }, requests);
        }),
      );
    }
  }

  close(): void {
    for (const stop of this.unsubscribe) stop();
  }
}
