import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, DEVICE_REQUESTS, ModelRegistry, type DeviceRequest } from '@gantry/inference-node';
import { choiceOption, integerOption, parseCommandArgs, UsageError } from '../args.js';

export const serveUsage = `gantry serve [--models models] [--port 8080] [--host 127.0.0.1] [--device auto|cpu|cuda] [--threads N]
             [--strict] [--cors ORIGIN] [--allowed-host NAME] [--site DIR] [--max-n 256] [--max-work 33554432]
             [--batching on|off] [--max-batch 64] [--max-wait-ms 0] [--queue 4096] [--max-connections 512]
  Serves every model folder (generator.onnx + card.json) under --models over HTTP:
  POST /v1/models/:name/{generate,interpolate,arithmetic,latents} (application/json), GET /healthz, /metrics,
  /openapi.json, /v1/models, /models/index.json (the browser page's model files) and the page at /.
  A model folder that fails its checks is skipped with a warning (--strict: refuse to start).
  --threads: onnxruntime intra-op threads; --cors: the one origin (or *) browsers may call from;
  --allowed-host: a Host header to accept besides this machine's names (when --host is not loopback);
  --site: a static site served at / (default: the explorer page of the browser package, once built).
  PORT in the environment sets the default port; --port 0 picks a free one. SIGTERM finishes in-flight requests, then exits.`;

/** The explorer page of the browser package, once built (`npm run build` builds it). */
async function defaultSite(): Promise<string | undefined> {
  const { siteDir } = await import('@gantry/inference-web/site');
  return existsSync(join(siteDir, 'index.html')) ? siteDir : undefined;
}

export async function serveCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('serve', argv, {
    models: { type: 'string', default: 'models' },
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    device: { type: 'string' },
    threads: { type: 'string' },
    strict: { type: 'boolean', default: false },
    cors: { type: 'string' },
    'allowed-host': { type: 'string', multiple: true },
    site: { type: 'string' },
    'max-n': { type: 'string' },
    'max-work': { type: 'string' },
    batching: { type: 'string' },
    'max-batch': { type: 'string' },
    'max-wait-ms': { type: 'string' },
    queue: { type: 'string' },
    'max-connections': { type: 'string' },
  });
  const port = integerOption('serve', 'port', args.port ?? process.env.PORT, 8080, 0, 65535);
  const device = choiceOption<DeviceRequest>('serve', 'device', args.device, DEVICE_REQUESTS, 'auto');
  const batching = choiceOption('serve', 'batching', args.batching, ['on', 'off'] as const, 'on') === 'on';
  const threads = args.threads === undefined ? undefined : integerOption('serve', 'threads', args.threads, 1, 1, 256);
  if (args.site !== undefined && !existsSync(join(args.site, 'index.html'))) {
    throw new UsageError(`gantry serve: --site ${args.site} has no index.html; give the folder of a built site`);
  }
  const registry = await ModelRegistry.load(args.models, {
    device,
    strict: args.strict,
    batching,
    maxBatchRows: integerOption('serve', 'max-batch', args['max-batch'], 64, 1, 4096),
    maxWaitMs: integerOption('serve', 'max-wait-ms', args['max-wait-ms'], 0, 0, 1000),
    maxQueueRows: integerOption('serve', 'queue', args.queue, 4096, 1, 1 << 20),
    ...(threads !== undefined ? { intraOpThreads: threads } : {}),
  });
  for (const skipped of registry.skipped)
    console.error(`warning: model folder ${skipped.name} is not served: ${skipped.reason.split('\n')[0]}`);
  for (const model of registry.names().map((name) => registry.get(name))) {
    // The full reasons (with install commands) are long; one clause each is enough at start-up.
    const skipped = model.skippedProviders.map((p) => `${p.provider}: ${p.reason.split(/[;(]/)[0]!.trim()}`).join('; ');
    const classes = model.card.classInput === undefined ? '' : ` and a class 0…${model.card.classInput.classes - 1}`;
    console.error(
      `model ${model.name}: ${model.card.output.shape.join('×')} from a ${model.card.latent.size}-d latent${classes}, on ${model.provider}${skipped ? ` (skipped ${skipped}; see the README to serve on a GPU)` : ''}`,
    );
  }
  const site = args.site ?? (await defaultSite());
  const server = createServer(registry, {
    maxN: integerOption('serve', 'max-n', args['max-n'], 256, 1, 65536),
    maxWork: integerOption('serve', 'max-work', args['max-work'], 2 ** 25, 1, 2 ** 40),
    maxConnections: integerOption('serve', 'max-connections', args['max-connections'], 512, 1, 65536),
    ...(args.cors !== undefined ? { cors: args.cors } : {}),
    ...(args['allowed-host'] !== undefined ? { allowedHosts: args['allowed-host'] } : {}),
    ...(site !== undefined ? { site } : {}),
  });
  const url = await server.listen(port, args.host);
  console.log(`serving ${registry.names().length} model(s) at ${url}`);
  const first = registry.get(registry.names()[0]!);
  const body = `{"n":16${first.card.classInput === undefined ? '' : ',"class":0'}}`;
  console.error(
    `try: curl ${url}/v1/models/${encodeURIComponent(first.name)}/generate -H 'Content-Type: application/json' -d '${body}' -o grid.png`,
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.error('gantry serve: finishing in-flight requests, refusing new ones');
    void server
      .drain()
      .then(() => registry.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
