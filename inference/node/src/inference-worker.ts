// The worker-thread side of WorkerSession: one onnxruntime session, fed chunks by the main thread.
// onnxruntime-node computes synchronously on the thread that calls run(), so running it here keeps the
// HTTP event loop free (health checks, parsing, encoding) while a batch is computed.

import { parentPort, workerData } from 'node:worker_threads';
import { createSession, type CreateSessionOptions } from './onnx-runtime.js';
import type { WorkerReply, WorkerRequest } from './session-thread.js';

const { onnxPath, options } = workerData as { onnxPath: string; options: CreateSessionOptions };
const port = parentPort!;

try {
  const session = await createSession(onnxPath, options);
  port.on('message', (message: WorkerRequest | 'release') => {
    if (message === 'release') {
      void session.release().then(() => port.close());
      return;
    }
    const { id, latents, rows, chunkSize, fixedBatch, classes } = message;
    session.runInChunks(latents, rows, { chunkSize, fixedBatch, ...(classes !== undefined ? { classes } : {}) }).then(
      ({ data, sampleDims }) => port.postMessage({ id, data, sampleDims } satisfies WorkerReply, [data.buffer as ArrayBuffer]),
      (error: unknown) =>
        port.postMessage({ id, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply),
    );
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ ready: false, error: error instanceof Error ? error.message : String(error) });
}
