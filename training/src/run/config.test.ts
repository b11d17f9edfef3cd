import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, configSha256, parseTrainConfig, trainConfigWarnings } from './config.js';

test('an empty config gets every default', () => {
  const config = parseTrainConfig({});
  assert.equal(config.training.batchSize, 64);
  assert.equal(config.optimizer.generator.learningRate, 2e-4);
  assert.deepEqual(config.optimizer.discriminator, { type: 'adam', learningRate: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 });
  assert.equal(config.model.latentSize, 100);
  assert.equal(config.logging.checkpointEvery, 100);
});

test('unknown keys are rejected, naming the key and where it is', () => {
  assert.throws(
    () => parseTrainConfig({ training: { stpes: 10 } }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /unknown key "stpes" at "training"/);
      return true;
    },
  );
  assert.throws(() => parseTrainConfig({ lerning: 1 }), /unknown key "lerning" at the top level \(allowed: name, seed, data/);
});

test('bad values are rejected with the key, the value and what is allowed', () => {
  assert.throws(() => parseTrainConfig({ training: { batchSize: 0 } }), /"training.batchSize" is 0: .*>=1/);
  assert.throws(() => parseTrainConfig({ data: { dataset: 'cifar' } }), /"data.dataset" is "cifar": .*"mnist".*"grid-25"/);
  assert.throws(
    () => parseTrainConfig({ optimizer: { generator: { learningRate: -1 } } }),
    /"optimizer.generator.learningRate" is -1/,
  );
  assert.throws(() => parseTrainConfig({ training: { steps: 1.5 } }), /"training.steps" is 1.5/);
});

test('the config hash ignores key order but not values', () => {
  const a = parseTrainConfig({ seed: 3, training: { steps: 5 } });
  const b = parseTrainConfig({ training: { steps: 5 }, seed: 3 });
  const c = parseTrainConfig({ training: { steps: 6 }, seed: 3 });
  assert.equal(configSha256(a), configSha256(b));
  assert.notEqual(configSha256(a), configSha256(c));
});

test('objectives, penalties, strategies, transforms, optimizers and EMA get their defaults', () => {
  const config = parseTrainConfig({});
  assert.equal(config.objective, 'non-saturating');
  assert.deepEqual(config.penalty, { type: 'none' });
  assert.deepEqual(config.strategy, { type: 'alternating', criticWarmup: false });
  assert.deepEqual(config.transforms, { packing: 1, instanceNoise: { sigma: 0, anneal: 'linear' } });
  assert.deepEqual(config.ema, { enabled: false, decay: 0.999 });
  // A section's type may be left out; each type has its own defaults.
  assert.deepEqual(parseTrainConfig({ penalty: { type: 'weight-clipping' } }).penalty, { type: 'weight-clipping', clip: 0.01 });
  assert.deepEqual(parseTrainConfig({ penalty: { type: 'r1' } }).penalty, { type: 'r1', gamma: 10 });
  assert.deepEqual(parseTrainConfig({ strategy: { type: 'unrolled' } }).strategy, {
    type: 'unrolled',
    steps: 5,
    firstOrder: false,
  });
  assert.deepEqual(parseTrainConfig({ strategy: { type: 'best-response' } }).strategy, {
    type: 'best-response',
    solverIterations: 10,
    retractionSteps: 5,
  });
  assert.deepEqual(parseTrainConfig({ optimizer: { discriminator: { type: 'rmsprop' } } }).optimizer.discriminator, {
    type: 'rmsprop',
    learningRate: 5e-5,
    decay: 0.99,
    momentum: 0,
    epsilon: 1e-8,
    centered: false,
  });
  assert.deepEqual(parseTrainConfig({ optimizer: { generator: { type: 'sgd', learningRate: 0.1 } } }).optimizer.generator, {
    type: 'sgd',
    learningRate: 0.1,
    momentum: 0,
  });
  assert.equal(parseTrainConfig({ optimizer: { generator: { beta2: 0.9 } } }).optimizer.generator.type, 'adam');
  for (const objective of ['minimax', 'non-saturating', 'wasserstein', 'least-squares', 'hinge'])
    assert.equal(parseTrainConfig({ objective }).objective, objective);
});

test('senseless values and combinations are rejected, saying why', () => {
  assert.throws(
    () => parseTrainConfig({ transforms: { packing: 0 } }),
    /"transforms.packing" is 0: must be ≥ 1: m is how many samples D judges together/,
  );
  assert.throws(
    () => parseTrainConfig({ strategy: { type: 'unrolled', steps: -1 } }),
    /"strategy.steps" is -1: must be ≥ 0: K is how many D updates G looks ahead/,
  );
  assert.throws(
    () => parseTrainConfig({ penalty: { type: 'weight-clipping', clip: 0 } }),
    /"penalty.clip" is 0: must be > 0: clipping at 0 sets every critic weight to 0, which leaves no critic/,
  );
  assert.throws(() => parseTrainConfig({ penalty: { type: 'gradient', clip: 0.01 } }), /unknown key "clip" at "penalty"/);
  assert.throws(
    () => parseTrainConfig({ penalty: { type: 'spectral' } }),
    /"penalty.type" is "spectral": .*'none' \| 'gradient' \| 'one-sided' \| 'r1' \| 'weight-clipping'/,
  );
  assert.throws(
    () => parseTrainConfig({ optimizer: { generator: { type: 'rmsprop', beta1: 0.5 } } }),
    /unknown key "beta1" at "optimizer.generator"/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'ring-8' } }),
    /"model.architecture" is missing: "dcgan" needs images, but data.dataset "ring-8" is points; use "mlp"/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'ring-8' }, model: { architecture: 'linear', latentSize: 1 } }),
    /"linear" .* needs data.dataset "gaussian-1d", not "ring-8"/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'gaussian-1d' }, model: { architecture: 'linear' } }),
    /"model.latentSize" is missing: must be 1 with architecture "linear"/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'grid-25', path: '/tmp' }, model: { architecture: 'mlp' } }),
    /unknown key "path" at "data" \(dataset "grid-25" takes: dataset, points\)/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { points: 10 } }),
    /unknown key "points" at "data" \(dataset "mnist" takes: dataset, path, limit\)/,
  );
  assert.throws(
    () => parseTrainConfig({ strategy: { type: 'best-response' }, training: { discriminatorSteps: 3 } }),
    /"training.discriminatorSteps" is 3: best-response trains D through strategy.retractionSteps/,
  );
  assert.throws(
    () => parseTrainConfig({ transforms: { instanceNoise: { sigma: 0.1, halfLife: 100 } } }),
    /applies to anneal "exponential" only; anneal is "linear"/,
  );
  assert.throws(() => parseTrainConfig({ ema: { enabled: true, decay: 1 } }), /"ema.decay" is 1/);
});

test('unusual but legal combinations parse, with a warning that says what is unusual', () => {
  const clippedMinimax = parseTrainConfig({ objective: 'minimax', penalty: { type: 'weight-clipping' } });
  assert.match(
    trainConfigWarnings(clippedMinimax).join('\n'),
    /penalty "weight-clipping" with objective "minimax": WGAN clips a Wasserstein critic/,
  );
  assert.match(
    trainConfigWarnings(parseTrainConfig({ objective: 'wasserstein' })).join('\n'),
    /nothing keeps the critic Lipschitz/,
  );
  const batchNormCritic = parseTrainConfig({
    data: { dataset: 'ring-8' },
    model: { architecture: 'mlp', mlp: { discriminatorNorm: 'batch' } },
    penalty: { type: 'gradient' },
  });
  assert.match(trainConfigWarnings(batchNormCritic).join('\n'), /batch norm in D/);
  assert.match(
    trainConfigWarnings(parseTrainConfig({ strategy: { type: 'unrolled', steps: 0 } })).join('\n'),
    /steps 0 is the alternating strategy/,
  );
  assert.deepEqual(trainConfigWarnings(parseTrainConfig({})), []);
  assert.deepEqual(trainConfigWarnings(parseTrainConfig({ objective: 'wasserstein', penalty: { type: 'gradient' } })), []);
});

test('model.conditional: projection by default, each D kind with its own keys, refused where it cannot train', () => {
  assert.equal(parseTrainConfig({}).model.conditional, undefined, 'unconditional unless asked');
  assert.deepEqual(parseTrainConfig({ model: { conditional: {} } }).model.conditional, {
    discriminator: 'projection',
    embeddingSize: 32,
  });
  assert.deepEqual(
    parseTrainConfig({
      data: { dataset: 'fashion-mnist' },
      model: { conditional: { discriminator: 'auxiliary-classifier', embeddingSize: 8 } },
    }).model.conditional,
    {
      discriminator: 'auxiliary-classifier',
      embeddingSize: 8,
      auxiliaryWeight: 1,
    },
  );
  assert.equal(
    configSha256(parseTrainConfig({})),
    configSha256(parseTrainConfig({ model: {} })),
    'an unconditional config hashes as before',
  );
  assert.throws(
    () => parseTrainConfig({ model: { conditional: { discriminator: 'projection', auxiliaryWeight: 2 } } }),
    /unknown key "auxiliaryWeight" at "model.conditional"/,
  );
  assert.throws(
    () => parseTrainConfig({ model: { conditional: { discriminator: 'acgan' } } }),
    /"model.conditional.discriminator" is "acgan": .*'projection' \| 'auxiliary-classifier'/,
  );
  assert.throws(
    () => parseTrainConfig({ model: { conditional: { embeddingSize: 0 } } }),
    /"model.conditional.embeddingSize" is 0/,
  );
  assert.throws(
    () => parseTrainConfig({ model: { conditional: { discriminator: 'auxiliary-classifier', auxiliaryWeight: -1 } } }),
    /"model.conditional.auxiliaryWeight" is -1/,
  );
  assert.throws(
    () => parseTrainConfig({ data: { dataset: 'ring-8' }, model: { architecture: 'mlp', conditional: {} } }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(
        e.message,
        /"model.conditional" is \{\}: needs labelled images, but data.dataset "ring-8" is unlabelled points; use "mnist", "fashion-mnist" or a "folder" with one sub-folder per class/,
      );
      return true;
    },
  );
  assert.throws(
    () => parseTrainConfig({ model: { architecture: 'mlp', conditional: {} } }),
    /"model.conditional" is \{\}: the class-conditional models are DCGANs .*model.architecture is "mlp": use "dcgan"/,
  );
  assert.throws(
    () => parseTrainConfig({ model: { conditional: {} }, transforms: { packing: 2 } }),
    /"transforms.packing" is 2: must be 1 with model.conditional: a packed D input holds 2 samples/,
  );
  for (const strategy of [{ type: 'alternating' }, { type: 'unrolled', steps: 2 }, { type: 'best-response' }]) {
    assert.equal(
      parseTrainConfig({ model: { conditional: { discriminator: 'auxiliary-classifier' } }, strategy }).strategy.type,
      strategy.type,
    );
  }
});
