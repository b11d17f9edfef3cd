import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, configSha256, parseTrainConfig } from './config.js';

test('an empty config gets every default', () => {
  const config = parseTrainConfig({});
  assert.equal(config.training.batchSize, 64);
  assert.equal(config.optimizer.generator.learningRate, 2e-4);
  assert.equal(config.optimizer.discriminator.beta1, 0.5);
  assert.equal(config.model.latentSize, 100);
  assert.equal(config.logging.checkpointEvery, 100);
});

test('unknown keys are rejected, naming the key and where it is', () => {
  assert.throws(() => parseTrainConfig({ training: { stpes: 10 } }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /unknown key "stpes" at "training"/);
    return true;
  });
  assert.throws(() => parseTrainConfig({ lerning: 1 }), /unknown key "lerning" at the top level \(allowed: name, seed, data/);
});

test('bad values are rejected with the key, the value and what is allowed', () => {
  assert.throws(() => parseTrainConfig({ training: { batchSize: 0 } }), /"training.batchSize" is 0: .*>=1/);
  assert.throws(() => parseTrainConfig({ data: { dataset: 'cifar' } }), /"data.dataset" is "cifar": .*"mnist"/);
  assert.throws(() => parseTrainConfig({ optimizer: { generator: { learningRate: -1 } } }), /"optimizer.generator.learningRate" is -1/);
  assert.throws(() => parseTrainConfig({ training: { steps: 1.5 } }), /"training.steps" is 1.5/);
});

test('the config hash ignores key order but not values', () => {
  const a = parseTrainConfig({ seed: 3, training: { steps: 5 } });
  const b = parseTrainConfig({ training: { steps: 5 }, seed: 3 });
  const c = parseTrainConfig({ training: { steps: 6 }, seed: 3 });
  assert.equal(configSha256(a), configSha256(b));
  assert.notEqual(configSha256(a), configSha256(c));
});
