import { createServer, DEVICE_REQUESTS, listen, ModelRegistry, type DeviceRequest } from '@gantry/inference-node';
import { choiceOption, integerOption, parseCommandArgs } from '../args.js';

export const serveUsage = `gantry serve [--models models] [--port 8080] [--host 127.0.0.1] [--device auto|cpu|cuda] [--max-n 64]
  Serves every model folder (generator.onnx + card.json) under --models over HTTP:
  GET /, GET /healthz, GET /v1/models, POST /v1/models/:name/generate {"n":16,"seed":7}
  (a class-conditional model also takes "class": one class, or an array with one per sample).
  PORT in the environment sets the default port; --port 0 picks a free one.`;

export async function serveCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs('serve', argv, {
    models: { type: 'string', default: 'models' },
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    device: { type: 'string' },
    'max-n': { type: 'string' },
  });
  const port = integerOption('serve', 'port', args.port ?? process.env.PORT, 8080, 0, 65535);
  const device = choiceOption<DeviceRequest>('serve', 'device', args.device, DEVICE_REQUESTS, 'auto');
  const maxN = integerOption('serve', 'max-n', args['max-n'], 64, 1, 4096);
  const registry = await ModelRegistry.load(args.models, { device });
  for (const model of registry.names().map((name) => registry.get(name))) {
    // The full reasons (with install commands) are long; one clause each is enough at start-up.
    const skipped = model.skippedProviders.map((p) => `${p.provider}: ${p.reason.split(/[;(]/)[0]!.trim()}`).join('; ');
    const classes = model.card.classInput === undefined ? '' : ` and a class 0…${model.card.classInput.classes - 1}`;
    console.error(`model ${model.name}: ${model.card.output.shape.join('×')} from a ${model.card.latent.size}-d latent${classes}, on ${model.provider}${skipped ? ` (skipped ${skipped}; see the README to serve on a GPU)` : ''}`);
  }
  const server = createServer(registry, { maxN });
  const url = await listen(server, port, args.host);
  console.log(`serving ${registry.names().length} model(s) at ${url}`);
  const first = registry.get(registry.names()[0]!);
  console.log(`try: curl -X POST ${url}/v1/models/${first.name}/generate -d '{"n":16${first.card.classInput === undefined ? '' : ',"class":0'}}' -o grid.png`);
  const stop = (): void => {
    server.close();
    void registry.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
